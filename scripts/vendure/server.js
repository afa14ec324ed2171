// Starts emporion's Vendure test server on 127.0.0.1:$PORT on the SQLite file $VENDURE_DB, running
// its job queue in the same process; stops cleanly on SIGTERM/SIGINT so sql.js writes the file.
'use strict';

const { bootstrap, JobQueueService } = require('@vendure/core');
const { vendureConfig } = require('./config');

/** Boots the server and its job queue, and closes both on a stop signal. */
async function main() {
    const app = await bootstrap(vendureConfig());
    await app.get(JobQueueService).start();
    let stopping = false;
    const stop = async () => {
        if (stopping) return;
        stopping = true;
        await app.close();
        process.exit(0);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    console.log(`emporion-vendure ready on http://127.0.0.1:${process.env.PORT || 3000}`);
}

main().catch(err => {
    console.error(err);
    process.exit(1);
});
