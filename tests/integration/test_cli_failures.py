"""A system that is down, refuses, is in maintenance or answers web pages ends a command in one line on
stderr with its exit code (3 unreachable, 4 refused, 2 state database); `--debug` adds the traceback."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import trustme
from click.testing import Result
from typer.testing import CliRunner

from emporion.cli import app
from emporion.connectors.base import Permanent
from emporion.model import Product, StockLevel
from emporion.testing import forget_systems, system
from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.fixtures.tryton import RunningTryton

runner = CliRunner()
UNREACHABLE, REFUSED, USAGE = 3, 4, 2

# what WordPress 6.8 answers every request with while in maintenance mode (wp_maintenance -> wp_die)
MAINTENANCE_PAGE = b"""<!DOCTYPE html>
<html lang="en-US">
<head>
\t<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
\t<meta name="viewport" content="width=device-width">
\t<meta name='robots' content='max-image-preview:large, noindex, follow' />
\t<title>Maintenance</title>
</head>
<body id="error-page">
\t<div class="wp-die-message">Briefly unavailable for scheduled maintenance. Check back in a minute.</div>\
</body>
</html>
"""


def closed_port() -> int:
    """A local port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Page(BaseHTTPRequestHandler):
    """Answers every request with `status` and `body` (HTML), as a site that is not the API does."""

    status = 503
    body = MAINTENANCE_PAGE
    content_type = "text/html; charset=UTF-8"
    headers_out = {"Retry-After": "600"}

    def _answer(self) -> None:
        self.send_response(self.status)
        for name, value in self.headers_out.items():
            self.send_header(name, value)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, *args: object) -> None:
        pass


class _MaintenanceJson(_Page):
    """Maintenance mode as WordPress answers a request that asks for JSON (wp_die's JSON handler)."""

    body = (
        b'{"code":"wp_die","message":"Briefly unavailable for scheduled maintenance. Check back in a '
        b'minute.","data":{"status":503},"additional_errors":[]}'
    )
    content_type = "application/json; charset=UTF-8"


class _Homepage(_Page):
    status = 200
    body = b"<!DOCTYPE html><html><head><title>My Shop &#8211; Home</title></head><body>Hi</body></html>"
    headers_out: dict[str, str] = {}


def _serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(params=["html", "json"])
def maintenance_site(request: pytest.FixtureRequest) -> Iterator[str]:
    """A local site answering every request as WordPress in maintenance mode: HTTP 503 with its HTML
    page, or with wp_die's JSON error (what it sends when the request asks for JSON)."""
    yield from _serve(_Page if request.param == "html" else _MaintenanceJson)


@pytest.fixture
def homepage_site() -> Iterator[str]:
    """A local site answering every request with its home page (HTTP 200, HTML)."""
    yield from _serve(_Homepage)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield int(sock.getsockname()[1])


@pytest.fixture(autouse=True)
def erp() -> Iterator[None]:
    """The ERP of these tests: a memory system with three products."""
    forget_systems()
    source = system("cli-failures-erp")
    for n in range(1, 4):
        product = Product(
            key=f"p{n}",
            sku=f"CLI-{n}",
            name=f"Product {n}",
            list_price=Decimal("4.50"),
            stock=[StockLevel(warehouse="WH", quantity=Decimal(2))],
        )
        source.put("product", product)
    yield
    forget_systems()


MEMORY_ERP = "{type: memory, system: cli-failures-erp}"


def write_config(
    directory: Path,
    shop: str,
    *,
    erp: str = MEMORY_ERP,
    state: str | None = None,
    extra: str = "",
) -> Path:
    """A configuration with `erp` and `shop` (YAML flow mappings) and one catalogue flow."""
    config = directory / "emporion.yaml"
    config.write_text(
        f"""
state: {{url: "{state or f"sqlite:///{directory}/state.db"}"}}
{extra}connections:
  erp: {erp}
  shop: {shop}
flows:
  - name: catalogue
    source: erp
    target: shop
""",
        encoding="utf-8",
    )
    return config


KEY, SECRET = "ck_test", "cs_test"


def woo(url: str, key: str = KEY, secret: str = SECRET, *, options: str = "") -> str:
    return f'{{type: woocommerce, url: "{url}", consumer_key: {key}, consumer_secret: {secret}{options}}}'


def sandbox(shop: SandboxShop, secret: str | None = None) -> str:
    return woo(shop.base_url, shop.consumer_key, secret or shop.consumer_secret)


def invoke(*args: str) -> Result:
    return runner.invoke(app, list(args))


def assert_one_line(result: Result, code: int, *expected: str) -> str:
    """The command ended with `code`, printed nothing on stdout, one line on stderr holding `expected`."""
    assert result.exit_code == code, (result.exit_code, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    for text in expected:
        assert text in lines[0], (text, lines[0])
    return lines[0]


@pytest.mark.parametrize("command", ["plan", "sync", "verify", "reconcile"])
def test_a_stopped_shop_is_one_line_and_exit_3(tmp_path: Path, command: str) -> None:
    with SandboxShop.serve(db=":memory:", host="127.0.0.1", port=0) as shop:
        url = shop.base_url  # the shop stops at the end of the block: nothing listens there any more
    config = write_config(tmp_path, woo(url))
    line = assert_one_line(
        invoke(command, "-c", str(config)),
        UNREACHABLE,
        "connection 'shop' cannot be reached or is unavailable",
        "ConnectError",
        f"emporion check -c {config}",
    )
    assert KEY not in line and SECRET not in line


def test_a_wrong_consumer_secret_is_one_line_and_exit_4(tmp_path: Path, sandbox_shop: SandboxShop) -> None:
    config = write_config(tmp_path, sandbox(sandbox_shop, secret="cs_wrong_secret"))
    assert_one_line(
        invoke("sync", "-c", str(config)),
        REFUSED,
        "connection 'shop' refused the credentials or a permission",
        "WooCommerce refused the credentials",
    )


def test_debug_adds_the_traceback_before_the_line(tmp_path: Path, sandbox_shop: SandboxShop) -> None:
    config = write_config(tmp_path, sandbox(sandbox_shop, secret="cs_wrong_secret"))
    result = invoke("--debug", "sync", "-c", str(config))
    assert result.exit_code == REFUSED
    assert "Traceback (most recent call last)" in result.stderr and "AuthError" in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("connection 'shop' refused the credentials")


def test_the_json_log_carries_the_traceback_as_one_event(tmp_path: Path, sandbox_shop: SandboxShop) -> None:
    extra = "logging: {format: json}\n"
    config = write_config(tmp_path, sandbox(sandbox_shop, secret="cs_wrong_secret"), extra=extra)
    result = invoke("sync", "-c", str(config))
    assert result.exit_code == REFUSED
    events = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    failed = [event for event in events if event.get("event") == "command failed"]
    assert len(failed) == 1 and failed[0]["exit_code"] == REFUSED
    assert "Traceback" in failed[0]["exception"] and "AuthError" in failed[0]["exception"]
    assert "cs_wrong_secret" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("connection 'shop' refused the credentials")


def test_maintenance_mode_is_one_line_and_exit_3(tmp_path: Path, maintenance_site: str) -> None:
    config = write_config(tmp_path, woo(maintenance_site))
    assert_one_line(
        invoke("sync", "-c", str(config)),
        UNREACHABLE,
        "connection 'shop' cannot be reached or is unavailable",
        "HTTP 503",
        "WordPress maintenance mode",
    )


def test_check_reports_maintenance_mode_and_accepts_no_credentials(
    tmp_path: Path, maintenance_site: str
) -> None:
    config = write_config(tmp_path, woo(maintenance_site))
    result = invoke("check", "-c", str(config))
    assert result.exit_code == 1, result.output
    output = " ".join(result.output.split())
    assert "FAIL shop: reachable" in output and "WordPress maintenance mode" in output
    assert "accepted" not in output and "permission" not in output
    assert "Traceback" not in output


def test_a_web_page_instead_of_the_api_is_one_line_and_check_names_it(
    tmp_path: Path, homepage_site: str
) -> None:
    config = write_config(tmp_path, woo(homepage_site))
    assert_one_line(
        invoke("plan", "-c", str(config)),
        UNREACHABLE,
        "connection 'shop' cannot be reached or is unavailable",
        "without JSON: a web page titled 'My Shop \u2013 Home'",
        "url is right",
    )
    result = invoke("check", "-c", str(config))
    assert result.exit_code == 1
    output = " ".join(result.output.split())
    assert "FAIL shop: reachable" in output and "a web page titled 'My Shop \u2013 Home'" in output
    assert "accepted" not in output


@pytest.fixture
def untrusted_tls_site() -> Iterator[str]:
    """A site behind real TLS whose certificate comes from a CA the system does not know."""
    ca = trustme.CA()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Homepage)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_an_untrusted_certificate_is_one_line_naming_the_ca_bundle_option(
    tmp_path: Path, untrusted_tls_site: str
) -> None:
    config = write_config(tmp_path, woo(untrusted_tls_site))
    assert_one_line(
        invoke("sync", "-c", str(config)),
        UNREACHABLE,
        "connection 'shop' cannot be reached",
        "the TLS certificate could not be verified",
    )


def test_tls_to_a_plain_http_port_is_one_line_and_exit_3(tmp_path: Path, homepage_site: str) -> None:
    config = write_config(tmp_path, woo(homepage_site.replace("http://", "https://")))
    assert_one_line(
        invoke("sync", "-c", str(config)), UNREACHABLE, "connection 'shop' cannot be reached", "ConnectError"
    )


def test_a_shop_that_never_answers_times_out_in_one_line(tmp_path: Path, silent_port: int) -> None:
    config = write_config(tmp_path, woo(f"http://127.0.0.1:{silent_port}", options=", timeout: 0.5"))
    assert_one_line(invoke("verify", "-c", str(config)), UNREACHABLE, "connection 'shop'", "timed out")


def tryton_at_closed_port() -> str:
    url = f"http://127.0.0.1:{closed_port()}"
    return f'{{type: tryton, url: "{url}", database: shop, username: emporion, password: secret-pw}}'


@pytest.mark.parametrize("command", ["plan", "sync"])
def test_tryton_unreachable_is_one_line_and_exit_3(
    tmp_path: Path, sandbox_shop: SandboxShop, command: str
) -> None:
    config = write_config(tmp_path, sandbox(sandbox_shop), erp=tryton_at_closed_port())
    line = assert_one_line(
        invoke(command, "-c", str(config)),
        UNREACHABLE,
        "connection 'erp' cannot be reached or is unavailable",
        "cannot reach Tryton",
    )
    assert "secret-pw" not in line


def test_the_installed_command_prints_one_line_and_its_traceback_only_with_debug(tmp_path: Path) -> None:
    config = write_config(tmp_path, "{type: memory, system: cli-failures-shop}", erp=tryton_at_closed_port())
    command = [sys.executable, "-m", "emporion", "plan", "-c", str(config)]
    plain = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert plain.returncode == UNREACHABLE and plain.stdout == ""
    assert plain.stderr.count("\n") == 1 and "Traceback" not in plain.stderr, plain.stderr
    assert plain.stderr.startswith("connection 'erp' cannot be reached")
    debug = subprocess.run(
        [*command[:3], "--debug", *command[3:]], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert debug.returncode == UNREACHABLE
    assert "Traceback (most recent call last)" in debug.stderr and "Retryable" in debug.stderr


def test_a_missing_state_folder_is_made(tmp_path: Path) -> None:
    config = write_config(
        tmp_path, "{type: memory, system: cli-failures-shop}", state=f"sqlite:///{tmp_path}/new/dir/state.db"
    )
    result = invoke("sync", "-c", str(config))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "new" / "dir" / "state.db").is_file()


@pytest.mark.parametrize("command", ["sync", "plan", "status", "db upgrade", "dead list"])
def test_a_state_folder_that_cannot_be_made_is_one_line_and_exit_2(tmp_path: Path, command: str) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    state = f"sqlite:///{tmp_path}/a-file/state/state.db"
    config = write_config(tmp_path, "{type: memory, system: cli-failures-shop}", state=state)
    assert_one_line(
        invoke(*command.split(), "-c", str(config)),
        USAGE,
        "the state database cannot be used",
        "Not a directory",
        "state.url",
    )


def test_sync_without_verification_tells_the_truth_about_links(tmp_path: Path) -> None:
    config = write_config(tmp_path, "{type: memory, system: cli-failures-shop}")
    result = invoke("sync", "--no-verify", "-c", str(config))
    assert result.exit_code == 0, result.output
    assert "not linked" not in result.output and "flow catalogue: clean" in result.output

    system("cli-failures-erp").put(
        "product", Product(key="p9", sku="CLI-9", name="Refused", list_price=Decimal("1.00"))
    )
    system("cli-failures-shop").fail("CLI-9", Permanent("the shop refuses this product", field="name"))
    result = invoke("sync", "--no-verify", "-c", str(config))
    assert result.exit_code == 1, result.output
    output = " ".join(result.output.split())
    assert "1 product records are not linked yet" in output or "1 product record" in output, output
    assert "flow catalogue: not clean" in output


@pytest.mark.tryton
def test_a_wrong_erp_password_on_a_real_tryton_is_one_line_and_exit_4(
    tmp_path: Path, tryton_server: RunningTryton
) -> None:
    erp = (
        f'{{type: tryton, url: "{tryton_server.url}", database: {tryton_server.database}, '
        f"username: {tryton_server.user}, password: not-the-password}}"
    )
    config = write_config(tmp_path, "{type: memory, system: cli-failures-shop}", erp=erp)
    line = assert_one_line(
        invoke("plan", "-c", str(config)),
        REFUSED,
        "connection 'erp' refused the credentials or a permission",
        f"Tryton refused the login {tryton_server.user!r}",
    )
    assert "not-the-password" not in line
