import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { BuiltArtifact } from '../model-artifact-spec';

/**
 * Reads a third-party model file and refuses it unless its sha256 is the pinned one, so an
 * upgraded or tampered package cannot change what we serve without a reviewed edit here.
 */
export function readPinnedFile(path: string, pinnedSha256: string): BuiltArtifact {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new Error(`pinned model file '${path}' could not be read; is its npm package installed? (${(error as Error).message})`, { cause: error });
  }
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== pinnedSha256) {
    throw new Error(
      `pinned model file '${path}' has sha256 ${actual}, expected ${pinnedSha256}. ` +
        'The package changed: check the new file (license, signature, outputs) before updating the pin.',
    );
  }
  return { bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}
