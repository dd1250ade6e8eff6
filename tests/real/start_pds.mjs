// Start @atproto/pds from the environment (PDS_* variables), as its own
// service/index.js does, and say "ready <port>" on stdout once it listens.
import http from 'node:http'
import { PDS, envToCfg, envToSecrets, readEnv } from '@atproto/pds'

// The PDS listens on every interface by default; a test server listens on the
// loopback address only.
const listen = http.Server.prototype.listen
http.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' && typeof args[1] !== 'string') {
    return listen.call(this, args[0], '127.0.0.1', ...args.slice(1))
  }
  return listen.apply(this, args)
}

const env = readEnv()
const server = await PDS.create(envToCfg(env), envToSecrets(env))
await server.start()
process.stdout.write(`ready ${env.port}\n`)
const stop = async () => {
  await server.destroy()
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
