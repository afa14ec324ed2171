"""Child process that provisions a Tryton database: modules, company, accounts, warehouses, users.

Run as `python -m emporion_devkit.erp.provision --config FILE --database NAME` with the passwords in the
environment (EMPORION_TRYTON_ADMIN_PASSWORD, EMPORION_TRYTON_USER, EMPORION_TRYTON_PASSWORD). Every
step looks before it creates, so running it twice is harmless.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from emporion_devkit.erp.tryton_setup import MODULES

# Groups the emporion login needs: read stock moves and quantities, create sales and their parties,
# record the shop's payments on them, write the catalogue a shop sends. No account administration.
EMPORION_GROUPS: tuple[tuple[str, str], ...] = (
    ("stock", "group_stock"),
    ("sale", "group_sale"),
    ("party", "group_party_admin"),
    ("account_payment", "group_payment"),
    # returns: emporion posts the credit note of a return sale (Tryton asks for the accounting group)
    ("account", "group_account"),
    # a shop's catalogue into Tryton: create and update categories, templates, variants and attributes
    ("product", "group_product_admin"),
    # ... with the account category a flow's create_defaults name (Tryton guards that field separately)
    ("account_product", "group_account_product_admin"),
)
# Shipping carriers of the sample shop: name -> fixed price of the carrier's service product.
CARRIERS: dict[str, Decimal] = {"DHL": Decimal("4.90"), "UPS": Decimal("6.90")}
PAYMENT_JOURNALS: tuple[str, ...] = ("Card", "Bank transfer")
TAXES: dict[str, Decimal] = {"VAT 19%": Decimal("0.19"), "VAT 7%": Decimal("0.07")}
# Each VAT has a "<name> rounding" tax: a fixed 0.01 per unit on the same accounts. emporion books the
# cents by which the shop's tax differs from Tryton's computation on a line of it (quantity = cents).
ROUNDING_SUFFIX = " rounding"


def activate_modules(config: str, database: str, admin_password: str) -> None:
    """Create the schema and activate emporion's modules with trytond-admin."""
    admin = Path(sys.executable).with_name("trytond-admin")
    with tempfile.NamedTemporaryFile("w", suffix=".pass") as passfile:
        passfile.write(admin_password)
        passfile.flush()
        env = dict(os.environ, TRYTONPASSFILE=passfile.name)
        command = [str(admin), "-c", config, "-d", database, "--all", "--activate-dependencies"]
        command += ["--email", "admin@example.com", "-u", *MODULES]
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise SystemExit(f"trytond-admin failed:\n{result.stdout}\n{result.stderr}")


def _ensure_company() -> Any:
    from proteus import Model
    from trytond.modules.company.tests.tools import create_company, get_company
    from trytond.modules.currency.tests.tools import get_currency

    Company = Model.get("company.company")
    if not Company.find([]):
        Party = Model.get("party.party")
        party = Party(name="Emporion Demo GmbH")
        party.save()
        create_company(party=party, currency=get_currency("EUR"))
    return get_company()


def _ensure_accounts(company: Any) -> Any:
    from proteus import Model
    from trytond.modules.account.tests.tools import create_chart, create_fiscalyear, create_tax, get_accounts
    from trytond.modules.account_invoice.tests.tools import (
        create_payment_term,
        set_fiscalyear_invoice_sequences,
    )

    if not Model.get("account.account").find([("company", "=", company.id)]):
        create_chart(company)
    if not Model.get("account.fiscalyear").find([("company", "=", company.id)]):
        fiscalyear = set_fiscalyear_invoice_sequences(create_fiscalyear(company))
        fiscalyear.click("create_period")
    Tax = Model.get("account.tax")
    for name, rate in TAXES.items():
        if not Tax.find([("company", "=", company.id), ("name", "=", name)]):
            created = create_tax(rate)
            created.name = created.description = name
            created.save()
        rounding = name + ROUNDING_SUFFIX
        if not Tax.find([("company", "=", company.id), ("name", "=", rounding)]):
            created = create_tax(rate)
            created.name = created.description = rounding
            created.type = "fixed"
            created.rate = None
            created.amount = Decimal("0.01")
            created.save()
    (tax,) = Tax.find([("company", "=", company.id), ("name", "=", "VAT 19%")])
    if not Model.get("account.invoice.payment_term").find([]):
        create_payment_term().save()
    Category = Model.get("product.category")
    if not Category.find([("accounting", "=", True)]):
        accounts = get_accounts(company)
        goods = Category(name="Goods", accounting=True)
        goods.account_expense = accounts["expense"]
        goods.account_revenue = accounts["revenue"]
        goods.customer_taxes.append(Tax(tax.id))
        goods.save()
    configuration = Model.get("account.configuration")(1)
    if not configuration.default_category_account_revenue:
        # a refund of money only (no goods) is a credit line booked on the default revenue account
        configuration.default_category_account_revenue = get_accounts(company)["revenue"]
        configuration.save()
    return tax


def _ensure_payment_journals(company: Any) -> None:
    from proteus import Model

    Journal = Model.get("account.payment.journal")
    for name in PAYMENT_JOURNALS:
        if not Journal.find([("name", "=", name)]):
            Journal(name=name, currency=company.currency, process_method="manual").save()


def ensure_carriers() -> None:
    """Carriers with a salable service product at a fixed price, open to every destination.

    Runs after the sample catalogue so that the catalogue's ids stay in catalogue order.
    """
    from proteus import Model

    Carrier = Model.get("carrier")
    Party = Model.get("party.party")
    Template = Model.get("product.template")
    Uom = Model.get("product.uom")
    Category = Model.get("product.category")
    (unit,) = Uom.find([("name", "=", "Unit")])
    (goods,) = Category.find([("accounting", "=", True), ("name", "=", "Goods")])
    for name, price in CARRIERS.items():
        if Carrier.find([("party.name", "=", name)]):
            continue
        party = Party(name=name)
        party.save()
        template = Template(name=f"Shipping {name}", type="service", salable=True, default_uom=unit)
        template.list_price = price
        template.account_category = goods
        template.sale_uom = unit
        template.code = f"SHIP-{name}"  # the variant's code is the template's (no suffix)
        template.save()
        carrier = Carrier(party=party, carrier_product=template.products[0], carrier_cost_method="product")
        carrier.save()
        Model.get("carrier.selection")(carrier=carrier).save()


def _ensure_second_warehouse() -> None:
    from proteus import Model

    Location = Model.get("stock.location")
    if Location.find([("code", "=", "WH2")]):
        return
    storage = Location(name="Storage 2", code="STO2", type="storage")
    storage.save()
    input_ = Location(name="Input 2", code="IN2", type="storage")
    input_.save()
    output = Location(name="Output 2", code="OUT2", type="storage")
    output.save()
    warehouse = Location(name="Warehouse 2", code="WH2", type="warehouse")
    warehouse.storage_location = storage
    warehouse.input_location = input_
    warehouse.output_location = output
    warehouse.save()


def _ensure_user(company: Any, login: str, password: str) -> None:
    from proteus import Model

    User = Model.get("res.user")
    Group = Model.get("res.group")
    ModelData = Model.get("ir.model.data")
    users = User.find([("login", "=", login)])
    user = users[0] if users else User(login=login, name="emporion sync")
    user.password = password
    if company not in user.companies:
        user.companies.append(Model.get("company.company")(company.id))
    user.company = Model.get("company.company")(company.id)
    have = {group.id for group in user.groups}
    for module, xml_id in EMPORION_GROUPS:
        group_id = ModelData.get_id(module, xml_id, {})
        if group_id not in have:
            user.groups.append(Group(group_id))
    user.save()


def provision(config: str, database: str, admin_password: str, login: str, password: str) -> None:
    """Run every provisioning step against `database`."""
    from proteus import config as proteus_config

    activate_modules(config, database, admin_password)
    proteus_config.set_trytond(database, config_file=config)
    company = _ensure_company()
    _ensure_accounts(company)
    _ensure_payment_journals(company)
    _ensure_second_warehouse()
    _ensure_user(company, login, password)


def main(argv: list[str] | None = None) -> None:
    """Command-line entry of the child process."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--carriers", action="store_true", help="only add the carriers (after the catalogue)")
    args = parser.parse_args(argv)
    if args.carriers:
        from proteus import config as proteus_config

        proteus_config.set_trytond(args.database, config_file=args.config)
        ensure_carriers()
        return
    provision(
        args.config,
        args.database,
        os.environ["EMPORION_TRYTON_ADMIN_PASSWORD"],
        os.environ["EMPORION_TRYTON_USER"],
        os.environ["EMPORION_TRYTON_PASSWORD"],
    )


if __name__ == "__main__":
    main()
