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
  manufacturerCa: Awaited<ReturnType<typeof createCa>>;
  idevid: CertificateMaterial;
  bootstrapServerCert: CertificateMaterial;
  lwm2mServerCert: CertificateMaterial;
}

export async function makeCasePki(endpoint: string, serverHost: string): Promise<CasePki> {
  const runCa = await createCa('GEISA ADM conformance run CA');
  const manufacturerCa = await createCa('GEISA reference device manufacturer CA');
  const [idevid, bootstrapServerCert, lwm2mServerCert] = await Promise.all([
    issueCertificate(manufacturerCa, { commonName: endpoint, usage: 'client', validDays: 3650 }),
    issueCertificate(runCa, { commonName: 'geisa-adm bootstrap-server', hosts: [serverHost], usage: 'server' }),
    issueCertificate(runCa, { commonName: 'geisa-adm lwm2m-server', hosts: [serverHost], usage: 'server' }),
  ]);
  return { runCa, manufacturerCa, idevid, bootstrapServerCert, lwm2mServerCert };
}

export function derOfCertificate(pem: string): Buffer {
  return Buffer.from(new X509Certificate(pem).raw);
}

/** PKCS#8 DER, the form the Bootstrap-Server writes into /0/x/5. */
export function derOfPrivateKey(pem: string): Buffer {
  return createPrivateKey(pem).export({ format: 'der', type: 'pkcs8' });
}
