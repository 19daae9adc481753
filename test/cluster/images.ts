// The images built by images/build.sh (cached): their references, as the chart's defaults name them, and
// their OCI archives. The test node imports them; pod tests install the chart with these references.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface BuiltImage {
  ref: string;
  archive: string;
}

/** operator and package: the chart's default images; *Next: the same repositories under other tags (upgrades). */
export type ImageName = 'operator' | 'package' | 'packageNext' | 'operatorNext' | 'pause';
export type BuiltImages = Record<ImageName, BuiltImage>;

export function readImages(dir = process.env.TM_IMAGES_DIR): BuiltImages {
  if (!dir) throw new Error('TM_IMAGES_DIR is not set: run through test/cluster/with-cluster.sh with TM_NODE=1 (it runs images/build.sh)');
  return JSON.parse(readFileSync(join(dir, 'images.json'), 'utf8')) as BuiltImages;
}

/** An image reference's tag (after the last colon of the last path segment). */
export function imageTag(ref: string): string {
  const last = ref.slice(ref.lastIndexOf('/') + 1);
  return last.includes(':') ? last.slice(last.indexOf(':') + 1) : 'latest';
}

export function allImages(images: BuiltImages): BuiltImage[] {
  return Object.values(images);
}
