// THE schema of the v1alpha1 Bundle (upstream-compatibility.md section 1 plus our extensions). It is the
// CRD's openAPIV3Schema (crd.ts, generated into the chart) and what the webhook compiles with ajv, so
// the two can never disagree. Keep it a structural schema: no additionalProperties:false, no oneOf at
// the type level; cross-field rules are CEL (x-kubernetes-validations) and webhook rules.

import { DNS1123_LABEL_MAX_LENGTH, DNS1123_LABEL_PATTERN } from '../selectors/label-validation.ts';
import { MAX_SIGNER_NAME_LENGTH } from './cluster-trust-bundle.ts';
import { DEFAULT_JKS_PASSWORD, DEFAULT_PKCS12_PASSWORD } from './constants.ts';

export interface CelRule {
  rule: string;
  message: string;
}

/** The subset of OpenAPI v3 / Kubernetes structural schema this CRD uses. */
export interface StructuralSchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'boolean';
  description?: string;
  format?: string;
  properties?: Record<string, StructuralSchema>;
  additionalProperties?: StructuralSchema;
  required?: string[];
  items?: StructuralSchema;
  enum?: string[];
  default?: unknown;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  minimum?: number;
  maximum?: number;
  'x-kubernetes-validations'?: CelRule[];
  'x-kubernetes-list-type'?: 'atomic' | 'map' | 'set';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
}

/** Upstream bounds (types_bundle.go kubebuilder markers). */
export const MAX_SOURCES = 100;
export const MAX_INLINE_LENGTH = 1024 * 1024;
export const MAX_NAME_LENGTH = 253;
export const MAX_PASSWORD_LENGTH = 128;
export const MAX_CONDITIONS = 10;
/** Our `namespace` extension: a namespace name is a DNS-1123 label. */
export const MAX_NAMESPACE_LENGTH = DNS1123_LABEL_MAX_LENGTH;
export const NAMESPACE_PATTERN = DNS1123_LABEL_PATTERN;

/** Our `keepHistory` extension (docs/ca-rotation.md): previous certificates kept per source. */
export const DEFAULT_HISTORY_LIMIT = 5;
export const MAX_HISTORY_LIMIT = 10;
export const MAX_DURATION_LENGTH = 32;
/** A Go duration (`720h`, `1h30m`); zero or negative values are refused by the webhook. */
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]*)?(ns|us|µs|ms|s|m|h))+$';

export const PKCS12_PROFILES = ['LegacyRC2', 'LegacyDES', 'Modern2023'] as const;

/** controller-gen's ExactlyOneOf / AtLeastOneOf markers, with their messages. */
function exactlyOneOf(fields: readonly string[]): CelRule {
  return {
    rule: `[${fields.map((field) => `has(self.${field})`).join(',')}].filter(x,x).size() == 1`,
    message: `exactly one of the fields in [${fields.join(' ')}] must be set`,
  };
}

function atLeastOneOf(fields: readonly string[]): CelRule {
  return {
    rule: `[${fields.map((field) => `has(self.${field})`).join(',')}].filter(x,x).size() >= 1`,
    message: `at least one of the fields in [${fields.join(' ')}] must be set`,
  };
}

export const SOURCE_TYPE_FIELDS = ['configMap', 'secret', 'inLine', 'useDefaultCAs'] as const;
export const SOURCE_OBJECT_REFERENCE_FIELDS = ['name', 'selector'] as const;
export const TARGET_KIND_FIELDS = ['configMap', 'secret'] as const;
export const ADDITIONAL_FORMAT_FIELDS = ['jks', 'pkcs12'] as const;
/** Our ClusterTrustBundle extension: a source type and a target kind besides upstream's. */
export const CLUSTER_TRUST_BUNDLE_FIELD = 'clusterTrustBundle';
export const CLUSTER_TRUST_BUNDLE_SOURCE_REFERENCE_FIELDS = ['name', 'signerName'] as const;

/**
 * Upstream's rule over upstream's fields, satisfied as well by our clusterTrustBundle field: a Bundle
 * without it meets exactly upstream's rule and message.
 */
function orClusterTrustBundle(rule: CelRule): CelRule {
  return { rule: `has(self.${CLUSTER_TRUST_BUNDLE_FIELD}) || ${rule.rule}`, message: rule.message };
}

function boundedString(description: string, maxLength: number, minLength = 1): StructuralSchema {
  return { type: 'string', description, ...(minLength > 0 ? { minLength } : {}), maxLength };
}

function stringMap(description: string): StructuralSchema {
  return { type: 'object', description, additionalProperties: { type: 'string' }, minProperties: 1 };
}

function labelSelector(description: string): StructuralSchema {
  return {
    type: 'object',
    description,
    properties: {
      matchExpressions: {
        type: 'array',
        description: 'matchExpressions is a list of label selector requirements. The requirements are ANDed.',
        items: {
          type: 'object',
          description: 'A label selector requirement: a key, an operator and (for In and NotIn) values.',
          properties: {
            key: { type: 'string', description: 'key is the label key that the selector applies to.' },
            operator: {
              type: 'string',
              description: "operator represents a key's relationship to a set of values. Valid operators are In, NotIn, Exists and DoesNotExist.",
            },
            values: {
              type: 'array',
              description: 'values is an array of string values. Non-empty for In and NotIn, empty for Exists and DoesNotExist.',
              items: { type: 'string' },
              'x-kubernetes-list-type': 'atomic',
            },
          },
          required: ['key', 'operator'],
        },
        'x-kubernetes-list-type': 'atomic',
      },
      matchLabels: {
        type: 'object',
        description: 'matchLabels is a map of {key,value} pairs; each is equivalent to an In requirement with a single value. The requirements are ANDed.',
        additionalProperties: { type: 'string' },
      },
    },
    'x-kubernetes-map-type': 'atomic',
  };
}

function sourceObjectKeySelector(kind: 'ConfigMap' | 'Secret'): StructuralSchema {
  const plural = kind === 'ConfigMap' ? 'ConfigMaps' : 'Secrets';
  return {
    type: 'object',
    description: `${kind} is a reference (by name) or a label selector for ${plural} in the trust namespace (or an allowed source namespace) from which to read certificates.`,
    properties: {
      name: boundedString(`Name is the name of the source ${kind}. Exactly one of name or selector must be set.`, MAX_NAME_LENGTH),
      selector: labelSelector(
        `Selector is the label selector used to find ${plural} to read. An empty selector selects every ${kind} in the namespace. Exactly one of name or selector must be set.`,
      ),
      key: boundedString(`Key is the data key of the ${kind} to read. Exactly one of key or includeAllKeys must be set.`, MAX_NAME_LENGTH),
      includeAllKeys: {
        type: 'boolean',
        description: `IncludeAllKeys reads every data key of the selected ${plural}. Exactly one of key or includeAllKeys must be set.`,
      },
      namespace: {
        type: 'string',
        description:
          'Namespace to read the source from. Defaults to the trust namespace; any other namespace must be allowed by the operator (--source-namespaces).',
        maxLength: MAX_NAMESPACE_LENGTH,
        pattern: NAMESPACE_PATTERN,
      },
      keepHistory: keepHistorySchema(kind),
    },
    'x-kubernetes-map-type': 'atomic',
    'x-kubernetes-validations': [exactlyOneOf(SOURCE_OBJECT_REFERENCE_FIELDS)],
  };
}

function clusterTrustBundleSource(): StructuralSchema {
  return {
    type: 'object',
    description:
      'ClusterTrustBundle reads certificates from ClusterTrustBundles (certificates.k8s.io/v1beta1), selected as a projected clusterTrustBundle volume selects them: one by name, or every one of a signer that labelSelector matches. Needs ClusterTrustBundle support enabled in trust-manager (--cluster-trust-bundles-enabled).',
    properties: {
      name: boundedString('Name of the ClusterTrustBundle to read. Exactly one of name or signerName must be set.', MAX_NAME_LENGTH),
      signerName: boundedString(
        'SignerName selects the ClusterTrustBundles whose spec.signerName is this signer, filtered by labelSelector. Exactly one of name or signerName must be set.',
        MAX_SIGNER_NAME_LENGTH,
      ),
      labelSelector: labelSelector(
        "LabelSelector filters the signer's ClusterTrustBundles; only with signerName. Unset selects none and {} selects all, as in a projected volume.",
      ),
    },
    'x-kubernetes-map-type': 'atomic',
    'x-kubernetes-validations': [
      exactlyOneOf(CLUSTER_TRUST_BUNDLE_SOURCE_REFERENCE_FIELDS),
      { rule: '!has(self.labelSelector) || has(self.signerName)', message: 'labelSelector may only be set together with signerName' },
    ],
  };
}

const clusterTrustBundleTarget: StructuralSchema = {
  type: 'object',
  description:
    'ClusterTrustBundle is the target ClusterTrustBundle (certificates.k8s.io/v1beta1, cluster-scoped) written for the Bundle: named after the Bundle, with the prefix "<signerName, / replaced by :>:" when signerName is set. It holds only the CA certificates of the bundle. Needs ClusterTrustBundle support enabled in trust-manager (--cluster-trust-bundles-enabled).',
  properties: {
    signerName: boundedString(
      'SignerName is written to spec.signerName, e.g. example.com/my-signer; trust-manager must be allowed to attest for it. Immutable on the object: a change replaces it.',
      MAX_SIGNER_NAME_LENGTH,
    ),
    metadata: {
      type: 'object',
      description: 'Metadata is copied onto the target ClusterTrustBundle.',
      properties: {
        annotations: stringMap('Annotations added to the target.'),
        labels: stringMap('Labels added to the target.'),
      },
      minProperties: 1,
    },
  },
};

function keepHistorySchema(kind: 'ConfigMap' | 'Secret'): StructuralSchema {
  return {
    type: 'object',
    description:
      `KeepHistory, when set (even empty), keeps certificates that disappear from this ${kind} source (a rotated CA) in the bundle ` +
      'until they expire, or until the limit or maxAge is reached, whichever comes first. The kept certificates are listed in status.certHistory.',
    properties: {
      limit: {
        type: 'integer',
        format: 'int32',
        minimum: 1,
        maximum: MAX_HISTORY_LIMIT,
        default: DEFAULT_HISTORY_LIMIT,
        description: `Limit is the number of previous certificates kept for this source, newest first (1-${MAX_HISTORY_LIMIT}, default ${DEFAULT_HISTORY_LIMIT}).`,
      },
      maxAge: {
        type: 'string',
        maxLength: MAX_DURATION_LENGTH,
        pattern: DURATION_PATTERN,
        description: 'MaxAge, a duration such as 720h, drops a previous certificate this long after it left the source, even if it has not expired yet.',
      },
    },
  };
}

function certificateRecord(description: string, withRetiredAt: boolean): StructuralSchema {
  return {
    type: 'object',
    description,
    properties: {
      fingerprint: { type: 'string', description: 'Fingerprint is the lower-hex SHA-256 of the certificate DER.' },
      subject: { type: 'string', description: 'Subject of the certificate.' },
      notAfter: { type: 'string', format: 'date-time', description: 'NotAfter is when the certificate expires.' },
      ...(withRetiredAt
        ? { retiredAt: { type: 'string', format: 'date-time', description: 'RetiredAt is when trust-manager first saw the certificate gone from the source.' } }
        : {}),
      pem: { type: 'string', description: 'PEM of the certificate, so that it stays in the bundle after a restart.' },
    },
    required: ['fingerprint', 'subject', 'notAfter', 'pem', ...(withRetiredAt ? ['retiredAt'] : [])],
  };
}

const certHistorySchema: StructuralSchema = {
  type: 'array',
  description:
    'CertHistory is kept for every configMap/secret source with keepHistory: what the source held at the last reconcile, and the previous ' +
    'certificates still kept in the bundle. Clear it by removing this field (kubectl patch --subresource=status) or by removing keepHistory.',
  items: {
    type: 'object',
    description: 'The history of one source.',
    properties: {
      source: { type: 'string', description: 'Source identifies the source: kind, namespace, name or selector, and key.' },
      seen: {
        type: 'array',
        description: 'Seen are the certificates the source held at the last successful reconcile.',
        items: certificateRecord('A certificate at the source.', false),
        'x-kubernetes-list-type': 'atomic',
      },
      retired: {
        type: 'array',
        description: 'Retired are the previous certificates of the source that are still in the bundle, newest first.',
        items: certificateRecord('A previous certificate still in the bundle.', true),
        maxItems: MAX_HISTORY_LIMIT,
        'x-kubernetes-list-type': 'atomic',
      },
    },
    required: ['source'],
  },
  maxItems: MAX_SOURCES,
  'x-kubernetes-list-type': 'atomic',
};

function targetTemplate(kind: 'ConfigMap' | 'Secret', extra: string): StructuralSchema {
  return {
    type: 'object',
    description: `${kind} is the target ${kind} written, named after the Bundle, in every selected namespace.${extra}`,
    properties: {
      key: boundedString(`Key is the data key of the target ${kind} that receives the PEM bundle.`, MAX_NAME_LENGTH),
      metadata: {
        type: 'object',
        description: `Metadata is copied onto every target ${kind}.`,
        properties: {
          annotations: stringMap('Annotations added to the target.'),
          labels: stringMap('Labels added to the target.'),
        },
        minProperties: 1,
      },
    },
    required: ['key'],
  };
}

const conditionSchema: StructuralSchema = {
  type: 'object',
  description: 'Condition contains details for one aspect of the current state of this Bundle.',
  properties: {
    lastTransitionTime: {
      type: 'string',
      format: 'date-time',
      description: 'lastTransitionTime is the last time the condition transitioned from one status to another.',
    },
    message: { type: 'string', maxLength: 32768, description: 'message is a human readable message indicating details about the transition.' },
    observedGeneration: {
      type: 'integer',
      format: 'int64',
      minimum: 0,
      description: 'observedGeneration is the .metadata.generation that the condition was set based upon.',
    },
    reason: {
      type: 'string',
      minLength: 1,
      maxLength: 1024,
      pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
      description: "reason contains a programmatic identifier indicating the reason for the condition's last transition.",
    },
    status: { type: 'string', enum: ['True', 'False', 'Unknown'], description: 'status of the condition, one of True, False, Unknown.' },
    type: {
      type: 'string',
      maxLength: 316,
      pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
      description: 'type of condition in CamelCase or in foo.example.com/CamelCase.',
    },
  },
  required: ['lastTransitionTime', 'message', 'reason', 'status', 'type'],
};

export const bundleSpecSchema: StructuralSchema = {
  type: 'object',
  description: 'Desired state of the Bundle resource.',
  properties: {
    sources: {
      type: 'array',
      description: 'Sources is a set of references to data whose data will sync to the target.',
      items: {
        type: 'object',
        description: 'BundleSource is one source of certificates; exactly one of its fields must be set.',
        properties: {
          configMap: sourceObjectKeySelector('ConfigMap'),
          secret: sourceObjectKeySelector('Secret'),
          inLine: boundedString('InLine is a PEM string of certificates appended as a source.', MAX_INLINE_LENGTH),
          useDefaultCAs: {
            type: 'boolean',
            description:
              'UseDefaultCAs, when true, requests the default CA package loaded at startup (--default-package-location). Its version is reported in status.defaultCAVersion.',
          },
          clusterTrustBundle: clusterTrustBundleSource(),
        },
        'x-kubernetes-validations': [
          orClusterTrustBundle(exactlyOneOf(SOURCE_TYPE_FIELDS)),
          {
            rule: `!has(self.${CLUSTER_TRUST_BUNDLE_FIELD}) || [${SOURCE_TYPE_FIELDS.map((field) => `has(self.${field})`).join(',')}].filter(x,x).size() == 0`,
            message: `exactly one of the fields in [${[...SOURCE_TYPE_FIELDS, CLUSTER_TRUST_BUNDLE_FIELD].join(' ')}] must be set`,
          },
        ],
      },
      minItems: 1,
      maxItems: MAX_SOURCES,
      'x-kubernetes-list-type': 'atomic',
    },
    target: {
      type: 'object',
      description: 'Target is the target location in all namespaces to sync source data to.',
      properties: {
        additionalFormats: {
          type: 'object',
          description: 'AdditionalFormats specifies any additional formats to write to the target.',
          properties: {
            jks: {
              type: 'object',
              description: 'JKS requests a JKS-formatted binary trust bundle to be written to the target. Deprecated: prefer PKCS#12.',
              properties: {
                key: boundedString('Key is the data key the JKS trust store is written to.', MAX_NAME_LENGTH),
                password: {
                  ...boundedString('Password for the JKS trust store.', MAX_PASSWORD_LENGTH),
                  default: DEFAULT_JKS_PASSWORD,
                },
              },
              required: ['key'],
              minProperties: 1,
              'x-kubernetes-map-type': 'atomic',
            },
            pkcs12: {
              type: 'object',
              description: 'PKCS12 requests a PKCS#12-formatted binary trust bundle to be written to the target.',
              properties: {
                key: boundedString('Key is the data key the PKCS#12 trust store is written to.', MAX_NAME_LENGTH),
                password: {
                  ...boundedString('Password for the PKCS#12 trust store; empty means a password-less store.', MAX_PASSWORD_LENGTH, 0),
                  default: DEFAULT_PKCS12_PASSWORD,
                },
                profile: {
                  type: 'string',
                  description: 'Profile is the PKCS#12 encryption profile; empty means LegacyRC2. Ignored for password-less stores.',
                  enum: [...PKCS12_PROFILES],
                },
              },
              required: ['key'],
              minProperties: 1,
              'x-kubernetes-map-type': 'atomic',
            },
          },
          'x-kubernetes-validations': [atLeastOneOf(ADDITIONAL_FORMAT_FIELDS)],
        },
        configMap: targetTemplate('ConfigMap', ''),
        secret: targetTemplate('Secret', ' Secret targets only work when enabled at startup (--secret-targets-enabled).'),
        clusterTrustBundle: clusterTrustBundleTarget,
        namespaceSelector: labelSelector(
          'NamespaceSelector selects the namespaces the ConfigMap and Secret targets are written to. Absent or empty selects all namespaces.',
        ),
      },
      'x-kubernetes-validations': [orClusterTrustBundle(atLeastOneOf(TARGET_KIND_FIELDS))],
    },
  },
  required: ['sources'],
};

export const bundleStatusSchema: StructuralSchema = {
  type: 'object',
  description: 'Status of the Bundle. This is set and managed automatically.',
  properties: {
    conditions: {
      type: 'array',
      description: 'List of status conditions to indicate the status of the Bundle. Known condition types are `Synced`.',
      items: conditionSchema,
      maxItems: MAX_CONDITIONS,
      'x-kubernetes-list-map-keys': ['type'],
      'x-kubernetes-list-type': 'map',
    },
    defaultCAVersion: boundedString(
      'DefaultCAPackageVersion, if set, is the version of the default CA package used because a source sets useDefaultCAs: true.',
      MAX_NAME_LENGTH,
    ),
    certificateCount: {
      type: 'integer',
      format: 'int32',
      minimum: 0,
      description: 'CertificateCount is the number of certificates in the last successfully synced bundle.',
    },
    earliestExpiry: {
      type: 'string',
      format: 'date-time',
      description: 'EarliestExpiry is the earliest notAfter among the certificates of the last successfully synced bundle.',
    },
    clusterTrustBundle: {
      type: 'object',
      description: 'ClusterTrustBundle describes the target ClusterTrustBundle as last written.',
      properties: {
        name: boundedString('Name of the ClusterTrustBundle.', MAX_NAME_LENGTH + MAX_SIGNER_NAME_LENGTH + 1),
        certificateCount: {
          type: 'integer',
          format: 'int32',
          minimum: 0,
          description: 'CertificateCount is the number of certificates in the ClusterTrustBundle.',
        },
        nonCACertificatesLeftOut: {
          type: 'integer',
          format: 'int32',
          minimum: 0,
          description: 'NonCACertificatesLeftOut counts the certificates of the bundle left out of the ClusterTrustBundle because they are not CA certificates, which the API does not accept.',
        },
      },
      required: ['name', 'certificateCount'],
    },
    certHistory: certHistorySchema,
  },
  minProperties: 1,
};

export const bundleSchema: StructuralSchema = {
  type: 'object',
  description: 'A Bundle distributes a set of trusted CA certificates to ConfigMaps and Secrets in selected namespaces.',
  properties: {
    apiVersion: {
      type: 'string',
      description: 'APIVersion defines the versioned schema of this representation of an object.',
    },
    kind: {
      type: 'string',
      description: 'Kind is a string value representing the REST resource this object represents.',
    },
    metadata: { type: 'object' },
    spec: bundleSpecSchema,
    status: bundleStatusSchema,
  },
  required: ['spec'],
};
