// Certificates for the TLS tests, made with the openssl command line: a private CA, and server certificates it
// issued (for a given subjectAltName, or one that expired in 2020), as an administrator's own CA would.
import {execFileSync} from 'node:child_process'
import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

export interface CertificateFiles {
  cert: string
  key: string
}

/** A private CA in `dir` (ca.pem, ca.key) and a function that issues server certificates signed by it. */
export function privateCa(dir: string): {ca: string; issue(name: string, altNames: string, expired?: boolean): CertificateFiles} {
  const ca = path.join(dir, 'ca.pem')
  const caKey = path.join(dir, 'ca.key')
  openssl(`req -x509 ${EC_KEY} -keyout ${caKey} -out ${ca} -days 30`, '/CN=carbonio-backup test CA')
  const database = path.join(dir, 'ca-db')
  mkdirSync(database)
  writeFileSync(path.join(database, 'index.txt'), '')
  writeFileSync(path.join(database, 'serial'), '01\n')
  return {
    ca,
    issue(name, altNames, expired = false) {
      const cert = path.join(dir, `${name}.pem`)
      const key = path.join(dir, `${name}.key`)
      const request = path.join(dir, `${name}.csr`)
      openssl(`req ${EC_KEY} -keyout ${key} -out ${request}`, `/CN=${name}`)
      // `openssl ca`, not `x509 -req`: only it takes explicit start and end dates (the expired certificate).
      const config = path.join(dir, `${name}.cnf`)
      writeFileSync(config, `[ca]
default_ca = c
[c]
database = ${database}/index.txt
serial = ${database}/serial
new_certs_dir = ${database}
certificate = ${ca}
private_key = ${caKey}
default_md = sha256
policy = p
x509_extensions = e
[p]
commonName = supplied
[e]
subjectAltName = ${altNames}
`)
      const dates = expired ? '-startdate 20200101000000Z -enddate 20200201000000Z' : '-days 30'
      openssl(`ca -batch -config ${config} -in ${request} -out ${cert} ${dates}`)
      return {cert, key}
    },
  }
}

// EC keys: RSA key generation would take most of the test's time.
const EC_KEY = '-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes'

/** Runs openssl with these space-separated arguments (paths under tmpdir()), and a subject that may hold spaces. */
function openssl(args: string, subject?: string): void {
  execFileSync('openssl', [...args.split(' '), ...(subject ? ['-subj', subject] : [])], {stdio: ['ignore', 'ignore', 'pipe']})
}
