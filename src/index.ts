export type {Catalog} from './engine/catalog/catalog.js'
// The plugin's programmatic surface: the engine, for the daemon and for tools that embed the backup.
export {openCatalog} from './engine/catalog/open-catalog.js'
