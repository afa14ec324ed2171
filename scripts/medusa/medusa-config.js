// Medusa v2 configuration of emporion's test server: API only (no admin dashboard to build), on
// 127.0.0.1, in-memory cache/event bus/workflows (no Redis), secrets and database from the environment.
const { defineConfig } = require("@medusajs/framework/utils")

const required = (name) => {
  const value = process.env[name]
  if (!value) {
    throw new Error(`${name} must be set for the Medusa test server`)
  }
  return value
}

const localOrigins = "http://localhost,http://127.0.0.1,http://localhost:8000,http://localhost:9000"

module.exports = defineConfig({
  projectConfig: {
    databaseUrl: required("DATABASE_URL"),
    databaseDriverOptions: { connection: { ssl: false } },
    http: {
      storeCors: process.env.STORE_CORS || localOrigins,
      adminCors: process.env.ADMIN_CORS || localOrigins,
      authCors: process.env.AUTH_CORS || localOrigins,
      jwtSecret: required("JWT_SECRET"),
      cookieSecret: required("COOKIE_SECRET"),
    },
  },
  admin: { disable: true },
})
