#!/usr/bin/env node
// Standalone entry: runs the plugin as the `carbonio` CLI itself (for machines without a Carbonio host CLI).
import {execute} from '@oclif/core'

await execute({dir: import.meta.url})
