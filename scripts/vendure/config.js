// The Vendure configuration of emporion's test server, read from the environment: SQLite through
// sql.js (no native build), loopback only, bearer or cookie sessions, a dummy payment handler.
'use strict';

const path = require('path');
const crypto = require('crypto');
const {
    DefaultLogger,
    LogLevel,
    dummyPaymentHandler,
    manualFulfillmentHandler,
} = require('@vendure/core');

/** The value of a required environment variable, or an error naming it. */
function required(name) {
    const value = process.env[name];
    if (!value) {
        throw new Error(`environment variable ${name} is not set`);
    }
    return value;
}

/** The VendureConfig for a server (or the populate run) on the database file VENDURE_DB. */
function vendureConfig() {
    process.env.VENDURE_DISABLE_TELEMETRY = 'true';
    return {
        apiOptions: {
            hostname: '127.0.0.1',
            port: Number(process.env.PORT || 3000),
            adminApiPath: 'admin-api',
            shopApiPath: 'shop-api',
            adminApiPlayground: false,
            shopApiPlayground: false,
            adminApiDebug: false,
            shopApiDebug: false,
        },
        authOptions: {
            tokenMethod: ['bearer', 'cookie'],
            requireVerification: false,
            superadminCredentials: {
                identifier: required('VENDURE_SUPERADMIN_USERNAME'),
                password: required('VENDURE_SUPERADMIN_PASSWORD'),
            },
            cookieOptions: { secret: process.env.VENDURE_COOKIE_SECRET || crypto.randomBytes(24).toString('hex') },
        },
        defaultChannelToken: process.env.VENDURE_CHANNEL_TOKEN || 'emporion-default-channel',
        dbConnectionOptions: {
            type: 'sqljs',
            location: path.resolve(required('VENDURE_DB')),
            autoSave: true,
            synchronize: true,
            logging: false,
        },
        paymentOptions: { paymentMethodHandlers: [dummyPaymentHandler] },
        shippingOptions: { fulfillmentHandlers: [manualFulfillmentHandler] },
        logger: new DefaultLogger({ level: process.env.VENDURE_LOG_DEBUG ? LogLevel.Debug : LogLevel.Info }),
        plugins: [],
    };
}

module.exports = { vendureConfig };
