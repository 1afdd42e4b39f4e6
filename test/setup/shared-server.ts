/**
 * A test server started on first use and shared by every test file of the run, with its stop for the root hooks.
 * The state lives on globalThis under `key`, not in a module variable: mocha may load the root hooks with require()
 * (through tsx's CJS hook) while the tests import the server's module as ESM, which would give two copies of the
 * module and two servers. A failed start is not cached: every later test fails with the same clear message instead.
 */
export function sharedServer<T extends {stop(): Promise<void>}>(key: string, start: () => Promise<T>): {
  get: () => Promise<T>
  stop: () => Promise<void>
} {
  const registry = globalThis as Record<symbol, undefined | {server?: Promise<T>}>
  const symbol = Symbol.for(key)
  registry[symbol] ??= {}
  const state = registry[symbol]
  return {
    get() {
      state.server ??= start().catch((error: unknown) => {
        state.server = undefined
        throw error
      })
      return state.server
    },
    async stop() {
      const pending = state.server
      state.server = undefined
      if (!pending) return
      let server: T
      try {
        server = await pending
      } catch {
        return // it never started; the failing tests already said why
      }

      await server.stop()
    },
  }
}
