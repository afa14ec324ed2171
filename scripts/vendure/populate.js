// Fills a fresh Vendure database once with what emporion's tests expect: EUR channel, Germany in
// zone Europe, tax category "standard" 19%, flat shipping 4.90 EUR, payment method "dummy" (settles
// at once), stock location "default". Prints the ids as one JSON line.
'use strict';

const { bootstrap, dummyPaymentHandler } = require('@vendure/core');
const {
    ChannelService,
    RequestContextService,
    ShippingMethodService,
    StockLocationService,
    TaxCategoryService,
    LanguageCode,
} = require('@vendure/core');
const { populateInitialData } = require('@vendure/core/cli');
const { vendureConfig } = require('./config');

const INITIAL_DATA = {
    defaultLanguage: LanguageCode.en,
    defaultZone: 'Europe',
    countries: [{ name: 'Germany', code: 'DE', zone: 'Europe' }],
    taxRates: [{ name: 'standard', percentage: 19 }],
    shippingMethods: [{ name: 'Flat rate', price: 490 }],
    paymentMethods: [
        {
            name: 'dummy',
            handler: { code: dummyPaymentHandler.code, arguments: [{ name: 'automaticSettle', value: 'true' }] },
        },
    ],
    collections: [],
};

/** A sessionless admin request context on the default channel, as Vendure's own populate uses. */
async function adminContext(app) {
    return app.get(RequestContextService).create({ apiType: 'admin', languageCode: LanguageCode.en });
}

/** Populates the database, sets the channel's currency and names the stock location. */
async function main() {
    const config = vendureConfig();
    config.apiOptions.port = Number(process.env.PORT || 0);
    const app = await bootstrap(config);
    await populateInitialData(app, INITIAL_DATA);
    const ctx = await adminContext(app);
    const channel = await app.get(ChannelService).getDefaultChannel(ctx);
    await app.get(ChannelService).update(ctx, {
        id: channel.id,
        defaultCurrencyCode: 'EUR',
        availableCurrencyCodes: ['EUR'],
        pricesIncludeTax: false,
    });
    const taxCategories = await app.get(TaxCategoryService).findAll(ctx);
    const standard = taxCategories.items.find(category => category.name === 'standard');
    await app.get(TaxCategoryService).update(ctx, { id: standard.id, isDefault: true });
    const locations = await app.get(StockLocationService).findAll(ctx);
    const location = locations.items[0];
    await app.get(StockLocationService).update(ctx, { id: location.id, name: 'default' });
    const shipping = await app.get(ShippingMethodService).findAll(ctx);
    const ids = {
        channel_token: channel.token,
        stock_location_id: String(location.id),
        shipping_method_id: String(shipping.items[0].id),
        payment_method_code: 'dummy',
        tax_category_id: String(standard.id),
    };
    await app.close();
    console.log(JSON.stringify(ids));
}

main().catch(err => {
    console.error(err);
    process.exit(1);
});
