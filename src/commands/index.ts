import type {Command} from '@oclif/core'

import {SCHEDULED_JOBS} from '../engine/schedule/scheduled-jobs.js'
import Daemon from './backup/daemon.js'
import DoAccountScan from './backup/do-account-scan.js'
import DoCoherencyCheck from './backup/do-coherency-check.js'
import DoExport from './backup/do-export.js'
import DoExternalRestore from './backup/do-external-restore.js'
import DoItemRestore from './backup/do-item-restore.js'
import DoItemSearch from './backup/do-item-search.js'
import DoPurge from './backup/do-purge.js'
import DoRestoreOnNewAccount from './backup/do-restore-on-new-account.js'
import DoSmartScan from './backup/do-smart-scan.js'
import DoStartService from './backup/do-start-service.js'
import DoStopAllOperations from './backup/do-stop-all-operations.js'
import DoStopOperation from './backup/do-stop-operation.js'
import DoStopService from './backup/do-stop-service.js'
import DoUndelete from './backup/do-undelete.js'
import GetAccountInfo from './backup/get-account-info.js'
import GetAllOperations from './backup/get-all-operations.js'
import GetAvailableAccounts from './backup/get-available-accounts.js'
import GetAvailableDomains from './backup/get-available-domains.js'
import GetBackupInfo from './backup/get-backup-info.js'
import GetItem from './backup/get-item.js'
import GetRestorePreview from './backup/get-restore-preview.js'
import GetServices from './backup/get-services.js'
import LegalHoldGet from './backup/legal-hold-get.js'
import LegalHoldSet from './backup/legal-hold-set.js'
import LegalHoldUnset from './backup/legal-hold-unset.js'
import Monitor from './backup/monitor.js'
import SchedulerDispatch from './backup/scheduler-dispatch.js'
import {schedulerGetCommand} from './backup/scheduler-get.js'
import {schedulerSetCommand} from './backup/scheduler-set.js'
import ConfigDump from './config/dump.js'
import ConfigGet from './config/get.js'
import ConfigGlobalGet from './config/global-get.js'
import ConfigGlobalSet from './config/global-set.js'
import ConfigServerGet from './config/server-get.js'
import ConfigServerSet from './config/server-set.js'
import ConfigSet from './config/set.js'
import ConfigUnset from './config/unset.js'

/**
 * The command map (oclif's "explicit" strategy). Ids keep Carbonio's verbs (backup:doPurge) while files stay
 * kebab-case; this is the one place that pairs them.
 */
const BY_ID: Record<string, Command.Class> = {
  'backup:daemon': Daemon,
  'backup:doAccountScan': DoAccountScan,
  'backup:doCoherencyCheck': DoCoherencyCheck,
  'backup:doExport': DoExport,
  'backup:doExternalRestore': DoExternalRestore,
  'backup:doItemRestore': DoItemRestore,
  'backup:doItemSearch': DoItemSearch,
  'backup:doPurge': DoPurge,
  'backup:doRestoreOnNewAccount': DoRestoreOnNewAccount,
  'backup:doSmartScan': DoSmartScan,
  'backup:doStartService': DoStartService,
  'backup:doStopAllOperations': DoStopAllOperations,
  'backup:doStopOperation': DoStopOperation,
  'backup:doStopService': DoStopService,
  'backup:doUndelete': DoUndelete,
  'backup:getAccountInfo': GetAccountInfo,
  'backup:getAllOperations': GetAllOperations,
  'backup:getAvailableAccounts': GetAvailableAccounts,
  'backup:getAvailableDomains': GetAvailableDomains,
  'backup:getBackupInfo': GetBackupInfo,
  'backup:getItem': GetItem,
  'backup:getRestorePreview': GetRestorePreview,
  'backup:getServices': GetServices,
  'backup:legalHold:get': LegalHoldGet,
  'backup:legalHold:set': LegalHoldSet,
  'backup:legalHold:unset': LegalHoldUnset,
  'backup:monitor': Monitor,
  'backup:scheduler': SchedulerDispatch,
  ...Object.fromEntries(SCHEDULED_JOBS.flatMap(job => [
    [`backup:scheduler:${job.name}:get`, schedulerGetCommand(job)],
    [`backup:scheduler:${job.name}:set`, schedulerSetCommand(job)],
  ])),
  'config:dump': ConfigDump,
  'config:get': ConfigGet,
  'config:global:get': ConfigGlobalGet,
  'config:global:set': ConfigGlobalSet,
  'config:server:get': ConfigServerGet,
  'config:server:set': ConfigServerSet,
  'config:set': ConfigSet,
  'config:unset': ConfigUnset,
}

// Carbonio's docs write verbs both ways (doPurge, dopurge): answer to the lower-case form too, without
// listing it twice in help.
for (const [id, command] of Object.entries(BY_ID)) {
  const lower = id.toLowerCase()
  command.hiddenAliases = lower === id ? [] : [lower]
}

export const COMMANDS = BY_ID
