import type {Catalog} from '../catalog/catalog.js'

import {now} from '../catalog/catalog.js'
import {UsageError} from '../errors.js'
import {
  type AttributeDefinition, ATTRIBUTES, findAttribute, requireLevel,
} from './attributes.js'
import {checkTarget, type Level, type Scope} from './levels.js'
import {InvalidValue} from './value-types.js'

export interface ResolvedValue {
  attribute: string
  level: Level
  target: string
  /** The effective value, or null when nothing sets it and it has no default. */
  value: null | string
  /** True when the value comes from another level (or the default) rather than the one asked about. */
  inherited: boolean
  /** Where the value comes from: a level and target, 'default', or null when unset. */
  source: 'default' | null | Scope
}

export interface SetResult {
  attribute: string
  level: Level
  target: string
  value: string
  notice?: string
}

/** Validates and stores a value at one level, replacing what that level had. */
export async function setAttribute(catalog: Catalog, scope: Scope, name: string, raw: string): Promise<SetResult> {
  const attribute = findAttribute(name)
  checkTarget(scope.level, scope.target)
  requireLevel(attribute, scope.level)
  const value = normalizeValue(attribute, raw)
  const refusal = attribute.refusal?.(value, catalog)
  if (refusal) throw new UsageError(refusal)
  await catalog
  .db('config')
  .insert({
    level: scope.level, target: targetKey(scope), attribute: attribute.name, value, updated_at: now(),
  })
  .onConflict(['level', 'target', 'attribute'])
  .merge(['value', 'updated_at'])
  const notice = attribute.notice?.(value)
  return {
    attribute: attribute.name, level: scope.level, target: targetKey(scope), value, ...(notice ? {notice} : {}),
  }
}

/** Removes a level's own value so that it inherits again. Returns whether there was one. */
export async function unsetAttribute(catalog: Catalog, scope: Scope, name: string): Promise<boolean> {
  const attribute = findAttribute(name)
  checkTarget(scope.level, scope.target)
  const removed = await catalog
  .db('config')
  .where({level: scope.level, target: targetKey(scope), attribute: attribute.name})
  .delete()
  return removed > 0
}

export async function getAttribute(catalog: Catalog, scope: Scope, name: string): Promise<ResolvedValue> {
  const attribute = findAttribute(name)
  checkTarget(scope.level, scope.target)
  const chain = await inheritanceChain(catalog, scope)
  const rows = await loadRows(catalog, chain, [attribute.name])
  return resolve(attribute, scope, chain, rows)
}

/** Every known attribute as seen from one scope, with where each value comes from. */
export async function dumpScope(catalog: Catalog, scope: Scope): Promise<ResolvedValue[]> {
  checkTarget(scope.level, scope.target)
  const chain = await inheritanceChain(catalog, scope)
  const rows = await loadRows(catalog, chain, ATTRIBUTES.map(a => a.name))
  return ATTRIBUTES.map(attribute => resolve(attribute, scope, chain, rows))
}

/** The effective values for one mail server, for the engine (daemon, purge, scanner) to act on. */
export async function serverConfig(catalog: Catalog, server: string): Promise<Map<string, null | string>> {
  const values = await dumpScope(catalog, {level: 'server', target: server})
  return new Map(values.map(v => [v.attribute, v.value]))
}

function normalizeValue(attribute: AttributeDefinition, raw: string): string {
  try {
    return attribute.type.normalize(raw)
  } catch (error) {
    if (error instanceof InvalidValue) {
      throw new UsageError(`invalid value for ${attribute.name}: ${error.message}; expected ${attribute.type.expected}`)
    }

    throw error
  }
}

function targetKey(scope: Scope): string {
  return scope.level === 'global' ? '' : scope.target.toLowerCase()
}

/**
 * The scopes consulted, nearest first: an account inherits from its COS (when the catalog knows it), then its
 * domain, then global; a server, domain or COS inherits from global.
 */
async function inheritanceChain(catalog: Catalog, scope: Scope): Promise<Scope[]> {
  const global: Scope = {level: 'global', target: ''}
  if (scope.level === 'global') return [global]
  const own: Scope = {level: scope.level, target: targetKey(scope)}
  if (scope.level !== 'account') return [own, global]
  const chain: Scope[] = [own]
  const account = await catalog.db('accounts').where({name: own.target}).first('cos_name')
  if (account?.cos_name) chain.push({level: 'cos', target: String(account.cos_name).toLowerCase()})
  chain.push({level: 'domain', target: own.target.split('@')[1]}, global)
  return chain
}

interface ConfigRow {
  level: Level
  target: string
  attribute: string
  value: string
}

async function loadRows(catalog: Catalog, chain: Scope[], attributes: string[]): Promise<ConfigRow[]> {
  return catalog
  .db('config')
  .whereIn('attribute', attributes)
  .andWhere(q => {
    for (const s of chain) q.orWhere({level: s.level, target: s.target})
  })
  .select('level', 'target', 'attribute', 'value')
}

function resolve(attribute: AttributeDefinition, scope: Scope, chain: Scope[], rows: ConfigRow[]): ResolvedValue {
  const base = {attribute: attribute.name, level: scope.level, target: targetKey(scope)}
  for (const [index, s] of chain.entries()) {
    const row = rows.find(r => r.attribute === attribute.name && r.level === s.level && r.target === s.target)
    if (row) return {
      ...base, value: row.value, inherited: index > 0, source: {level: s.level, target: s.target},
    }
  }

  if (attribute.defaultValue === undefined) return {
    ...base, value: null, inherited: false, source: null,
  }
  return {
    ...base, value: attribute.defaultValue, inherited: true, source: 'default',
  }
}
