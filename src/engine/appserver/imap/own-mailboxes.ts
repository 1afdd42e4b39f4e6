import type {NamespaceObject, NamespacesObject} from 'imapflow'

/**
 * Whether a mailbox of a LIST "" "*" is the account's own. A server lists more than the account's folders: other
 * users' folders shared with it (Dovecot's `shared/<user>/Projects`) and public folders (`Public/News`), in the
 * "other users" and "shared" namespaces of its NAMESPACE answer (RFC 2342). Those are not the account's mail: a
 * backup that took them as its own kept another user's mail under this account (and every reader's copy of each
 * public folder), and a restore of the account wrote into them, bringing back in another user's folder what that
 * user had deleted. A mailbox belongs to the namespace with the longest prefix it falls under, so a personal
 * namespace with a prefix ("INBOX.") inside a shared one with none is still the account's.
 */
export function isOwnMailbox(mailbox: string, namespaces?: NamespacesObject): boolean {
  if (!namespaces) return true
  let own = true
  let longest = -1
  const consider = (list: false | NamespaceObject[], personal: boolean) => {
    for (const {delimiter, prefix} of list || []) {
      if (!within(mailbox, prefix, delimiter) || prefix.length <= longest) continue
      longest = prefix.length
      own = personal
    }
  }

  consider(namespaces.personal, true)
  consider(namespaces.other, false)
  consider(namespaces.shared, false)
  return own
}

/** The mailbox is under the prefix, or is the prefix's own root name (`shared` for `shared/`, listed \Noselect). */
function within(mailbox: string, prefix: string, delimiter: null | string | undefined): boolean {
  if (prefix === '') return true
  if (mailbox.startsWith(prefix)) return true
  return Boolean(delimiter) && prefix.endsWith(delimiter!) && mailbox === prefix.slice(0, -delimiter!.length)
}
