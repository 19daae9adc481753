// The image references the chart (charts/trust-manager) deploys by default, read from its
// Chart.yaml and values.yaml: the one source of the image names and tags that images/build.sh
// builds and images/release.sh pushes. Prints JSON:
//
//   node images/chart-images.ts
//   {"operator": {"repository", "tag", "ref"}, "operatorNext": {...},
//    "package": {"repository", "tag", "ref", "caCertificatesVersion", "revision"}, "packageNext": {...}}
//
// operatorNext / packageNext: the same repositories under a second tag (the operator image under
// "<appVersion>-next", the package image with the next package revision), for upgrade tests.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

const CHART_DIR = new URL('../charts/trust-manager/', import.meta.url);

interface ImageValues {
  registry?: string;
  repository?: string;
  name: string;
  tag?: string;
  digest?: string;
  _defaultReference?: string;
}

export interface ChartValues {
  imageRegistry?: string;
  imageNamespace?: string;
  image: ImageValues;
  defaultPackageImage: ImageValues;
}

export interface ImageRef {
  repository: string;
  tag: string;
  ref: string;
}

export interface PackageImageRef extends ImageRef {
  /** The Debian ca-certificates version to build with; empty when the tag does not tell it. */
  caCertificatesVersion: string;
  revision: string;
}

/** The chart's repository rule (template "trust-manager.imageReference"), without tag or digest. */
export function repositoryOf(image: ImageValues, imageRegistry = '', imageNamespace = ''): string {
  let repository = image.repository || [imageRegistry, imageNamespace, image.name].filter((p) => p).join('/');
  if (image.registry) repository = `${image.registry}/${repository}`;
  return repository;
}

/**
 * The package version behind a package image tag. imageTag() turns "+" and "~" into "-", so a tag
 * with a "-" does not tell the Debian version: then only the revision is known.
 */
export function packageVersionOf(tag: string): { caCertificatesVersion: string; revision: string } {
  const m = /^(.+)\.(\d+)$/.exec(tag);
  if (!m) throw new Error(`package image tag ${JSON.stringify(tag)} is not "<ca-certificates version>.<revision>"`);
  const [, ca, revision] = m as unknown as [string, string, string];
  return { caCertificatesVersion: tag.includes('-') ? '' : ca, revision };
}

export function chartImages(values: ChartValues, appVersion: string): Record<'operator' | 'operatorNext', ImageRef> & Record<'package' | 'packageNext', PackageImageRef> {
  const operatorRepository = repositoryOf(values.image, values.imageRegistry, values.imageNamespace);
  const operatorTag = values.image.tag || appVersion;
  const pkg = values.defaultPackageImage;
  const packageRepository = repositoryOf(pkg, values.imageRegistry, values.imageNamespace);
  const defaultReference = pkg.tag ? `:${pkg.tag}` : (pkg._defaultReference ?? '');
  if (!defaultReference.startsWith(':')) throw new Error(`the chart's default package reference ${JSON.stringify(defaultReference)} is not a tag`);
  const packageTag = defaultReference.slice(1);
  const current = packageVersionOf(packageTag);
  const nextRevision = String(Number(current.revision) + 1);
  const nextTag = `${packageTag.slice(0, -current.revision.length)}${nextRevision}`;
  const image = (repository: string, tag: string): ImageRef => ({ repository, tag, ref: `${repository}:${tag}` });
  return {
    operator: image(operatorRepository, operatorTag),
    operatorNext: image(operatorRepository, `${operatorTag}-next`),
    package: { ...image(packageRepository, packageTag), ...current },
    packageNext: { ...image(packageRepository, nextTag), ...packageVersionOf(nextTag) },
  };
}

export function readChartImages(chartDir: URL = CHART_DIR): ReturnType<typeof chartImages> {
  const chart = parse(readFileSync(new URL('Chart.yaml', chartDir), 'utf8')) as { appVersion: string };
  const values = parse(readFileSync(new URL('values.yaml', chartDir), 'utf8')) as ChartValues;
  return chartImages(values, chart.appVersion);
}

if (import.meta.main) {
  process.stdout.write(`${JSON.stringify(readChartImages(), null, 2)}\n`);
}
