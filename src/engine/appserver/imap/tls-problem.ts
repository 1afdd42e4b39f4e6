/**
 * What a failed TLS handshake with the AppServer means to the administrator, and the one fix that helps. Node
 * reports an untrusted issuer, an expired certificate and a certificate for another host name alike as a TLS error:
 * telling each to "add its CA" sent an administrator whose CA was already trusted after the wrong fix. An imap://
 * URL meets the certificate too: the connector upgrades with STARTTLS whenever the server offers it (Dovecot's
 * default), so "use imap://" is no way around an untrusted certificate.
 */
export interface TlsFailure {
  code?: string
  /** Node's own explanation of a host name mismatch ("Host: x. is not in the cert's altnames: DNS:y"). */
  reason?: string
  cert?: {subjectaltname?: string}
}

// What OpenSSL says when the answer to its hello is not TLS at all: plain IMAP on the port, not a certificate.
const NOT_TLS = /^ERR_SSL_(WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|UNKNOWN_PROTOCOL|HTTP_REQUEST)$/
const UNTRUSTED = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL/

/** The TLS problem as one line naming the URL and the fix, or undefined when the failure is no TLS problem. */
export function tlsProblemLine(failure: TlsFailure, url: string): string | undefined {
  const code = failure.code ?? ''
  if (NOT_TLS.test(code)) {
    return `the AppServer at ${url} does not speak TLS on that port (${code}): use imap:// for it, or imaps:// with the server's TLS port (993)`
  }

  if (!UNTRUSTED.test(code)) return undefined
  const what = `the TLS certificate of ${url}${url.startsWith('imap:') ? ' (offered by STARTTLS)' : ''}`
  if (code === 'CERT_HAS_EXPIRED') {
    return `${what} has expired (${code}): renew the certificate on the AppServer`
  }

  if (code === 'CERT_NOT_YET_VALID') {
    return `${what} is not valid yet (${code}): check the clock of this host and of the AppServer`
  }

  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    const names = failure.cert?.subjectaltname ? ` but ${failure.cert.subjectaltname}` : ''
    return `${what} does not name the host of backupAppServerUrl${names} (${code}): set backupAppServerUrl with a host name the certificate names`
  }

  const trust = 'put the certificate of the CA that issued it (a self-signed certificate itself) in a PEM file and name it in'
    + ' NODE_EXTRA_CA_CERTS, in the environment of carbonio and of the daemon\'s unit (Environment=NODE_EXTRA_CA_CERTS=<file>)'
  return `${what} is not trusted (${code}): ${trust}`
}
