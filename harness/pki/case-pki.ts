/**
 * The certificates one certificate-mode case needs: a CA for the run (it signs the fake
 * servers' certificates and the operational device certificates the Bootstrap-Server
 * writes), and the device's identity. For the bundled reference device the harness also
 * plays the manufacturer: it makes a manufacturer CA and the device's IDevID, handed over
 * at provisioning like a factory would have installed them.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { createCa, issueCertificate, type CertificateMaterial } from './certificates.js';

export interface CasePki {
  runCa: Awaited<ReturnType<typeof createCa>>;
  /** The CA the device's IDevID must chain to. */
  manufacturerCaPem: string;
  /** Set when the harness played the manufacturer (bundled device); a real device brings its own. */
  idevid?: CertificateMaterial;
  bootstrapServerCert: CertificateMaterial;
  lwm2mServerCert: CertificateMaterial;
}

/**
 * Made once per run (process) for each device endpoint, server address and manufacturer CA,
 * and shared by that run's certificate-mode cases: key generation and signing were most of
 * a short certificate case's harness CPU, and nothing a case judges depends on its CA
 * being its own (each case has its own servers on their own ports and a factory-fresh
 * device; what a case issues beyond these, it issues itself). Read-only once made.
 */
const runPki = new Map<string, Promise<CasePki>>();

/**
 * `manufacturerCaPem` given: a real device, whose IDevID is checked against it. Absent:
 * the harness makes a manufacturer CA and an IDevID for the bundled device.
 */
export function makeCasePki(endpoint: string, serverHost: string, manufacturerCaPem?: string): Promise<CasePki> {
  const key = JSON.stringify([endpoint, serverHost, manufacturerCaPem ?? null]);
  let made = runPki.get(key);
  if (!made) {
    made = freshCasePki(endpoint, serverHost, manufacturerCaPem);
    runPki.set(key, made);
    // A failure is not kept: the next case tries again.
    made.catch(() => runPki.delete(key));
  }
  return made;
}

async function freshCasePki(endpoint: string, serverHost: string, manufacturerCaPem?: string): Promise<CasePki> {
  const runCa = await createCa('GEISA ADM conformance run CA');
  const [bootstrapServerCert, lwm2mServerCert] = await Promise.all([
    issueCertificate(runCa, { commonName: 'geisa-adm bootstrap-server', hosts: [serverHost], usage: 'server' }),
    issueCertificate(runCa, { commonName: 'geisa-adm lwm2m-server', hosts: [serverHost], usage: 'server' }),
  ]);
  if (manufacturerCaPem) return { runCa, manufacturerCaPem, bootstrapServerCert, lwm2mServerCert };
  const manufacturerCa = await createCa('GEISA reference device manufacturer CA');
  const idevid = await issueCertificate(manufacturerCa, { commonName: endpoint, usage: 'client', validDays: 3650 });
  return { runCa, manufacturerCaPem: manufacturerCa.certPem, idevid, bootstrapServerCert, lwm2mServerCert };
}

export function derOfCertificate(pem: string): Buffer {
  return Buffer.from(new X509Certificate(pem).raw);
}

/** PKCS#8 DER, the form the Bootstrap-Server writes into /0/x/5. */
export function derOfPrivateKey(pem: string): Buffer {
  return createPrivateKey(pem).export({ format: 'der', type: 'pkcs8' });
}
