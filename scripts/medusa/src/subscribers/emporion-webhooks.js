// emporion's Medusa v2 subscriber: posts product, variant, stock, order and customer events to
// emporion's webhook ingress, signed with HMAC-SHA256, so that emporion takes changes in without polling.
//
// Install: copy this file into the Medusa project's src/subscribers/ (plain CommonJS, loaded by
// `medusa start` and `medusa develop` without a build step) and set
//   EMPORION_WEBHOOK_URL     emporion's delivery URL, e.g. https://sync.example.com/webhooks/shop
//   EMPORION_WEBHOOK_SECRET  the secret the emporion connection's `webhooks.secret` names
// Without both nothing is sent. A delivery is the JSON {"id", "topic", "occurred_at"}: `id` is the
// record emporion reads (the product's id for variant and stock events, the order's, the customer's)
// with headers X-Medusa-Topic, X-Medusa-Delivery (unique per event), X-Medusa-Timestamp (Unix
// seconds) and X-Medusa-Signature (hex HMAC-SHA256 of "<timestamp>.<body>"). Deliveries run after
// the event's handler has returned (never holding up Medusa's request) and are retried with backoff
// on network errors, 429 and 5xx; failures are logged by Medusa's logger without the secret.
const crypto = require("node:crypto")

const PRODUCT_EVENTS = ["product.created", "product.updated", "product.deleted"]
const VARIANT_EVENTS = ["product-variant.created", "product-variant.updated", "product-variant.deleted"]
const STOCK_EVENTS = ["inventory-level.created", "inventory-level.updated", "inventory-level.deleted"]
const ORDER_EVENTS = ["order.placed", "order.updated", "order.canceled", "order.completed"]
const CUSTOMER_EVENTS = ["customer.created", "customer.updated"]
const ATTEMPTS = Number(process.env.EMPORION_WEBHOOK_ATTEMPTS || 5)
const FIRST_BACKOFF_MS = 500
const TIMEOUT_MS = 10000

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// The ids an event carries: Medusa sends {id} or, from some workflows, a list of {id}.
function idsOf(data) {
  const items = Array.isArray(data) ? data : [data]
  return items.map((item) => item && (item.id || item.order_id)).filter(Boolean)
}

// The product ids behind variants (also deleted ones).
async function productsOfVariants(query, variantIds) {
  const { data } = await query.graph({
    entity: "product_variant",
    fields: ["id", "product_id"],
    filters: { id: variantIds },
    withDeleted: true,
  })
  return data.map((variant) => variant.product_id)
}

// The product ids whose variants stock the inventory levels' items.
async function productsOfLevels(query, levelIds) {
  const { data } = await query.graph({
    entity: "inventory_level",
    fields: ["id", "inventory_item_id", "inventory_item.variants.product_id"],
    filters: { id: levelIds },
    withDeleted: true,
  })
  return data.flatMap((level) => (level.inventory_item?.variants || []).map((v) => v.product_id))
}

// The ids emporion reads for this event: products for variant and stock events, else the event's own.
async function recordIds(name, data, container) {
  const ids = idsOf(data)
  if (!ids.length) return []
  const query = container.resolve("query")
  if (VARIANT_EVENTS.includes(name)) return productsOfVariants(query, ids)
  if (STOCK_EVENTS.includes(name)) return productsOfLevels(query, ids)
  return ids
}

// One signed POST; true when emporion took it, false when retrying cannot help; throws to retry.
async function post(url, secret, topic, delivery, body) {
  const timestamp = String(Math.floor(Date.now() / 1000))
  const signature = crypto.createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")
  const response = await fetch(url, {
    method: "POST",
    body,
    headers: {
      "content-type": "application/json",
      "x-medusa-topic": topic,
      "x-medusa-delivery": delivery,
      "x-medusa-timestamp": timestamp,
      "x-medusa-signature": signature,
    },
    signal: AbortSignal.timeout(TIMEOUT_MS),
  })
  if (response.ok) return true
  if (response.status === 429 || response.status >= 500) {
    throw new Error(`emporion answered ${response.status}`)
  }
  return false
}

// Delivers one record's event, retrying with doubling backoff; logs what finally failed.
async function deliver(logger, url, secret, topic, id) {
  const delivery = crypto.randomUUID()
  const body = JSON.stringify({ id, topic, occurred_at: new Date().toISOString() })
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    try {
      if (await post(url, secret, topic, delivery, body)) return
      logger.warn(`emporion refused the ${topic} delivery ${delivery} for ${id}; not retried`)
      return
    } catch (error) {
      if (attempt === ATTEMPTS) {
        logger.error(`emporion did not take the ${topic} delivery ${delivery} for ${id}: ${error.message}`)
        return
      }
      await sleep(FIRST_BACKOFF_MS * 2 ** (attempt - 1))
    }
  }
}

// Resolves the records behind the event and delivers each once, after Medusa's handler returned.
async function forward(name, data, container) {
  const logger = container.resolve("logger")
  const url = process.env.EMPORION_WEBHOOK_URL
  const secret = process.env.EMPORION_WEBHOOK_SECRET
  if (!url || !secret) return
  try {
    const ids = [...new Set(await recordIds(name, data, container))]
    if (!ids.length) logger.debug(`emporion webhook: ${name} names no record emporion reads`)
    await Promise.all(ids.map((id) => deliver(logger, url, secret, name, id)))
  } catch (error) {
    logger.error(`emporion webhook for ${name} failed: ${error.message}`)
  }
}

async function emporionWebhooks({ event, container }) {
  setImmediate(() => void forward(event.name, event.data, container))
}

exports.default = emporionWebhooks
exports.config = {
  event: [...PRODUCT_EVENTS, ...VARIANT_EVENTS, ...STOCK_EVENTS, ...ORDER_EVENTS, ...CUSTOMER_EVENTS],
  context: { subscriberId: "emporion-webhooks" },
}
