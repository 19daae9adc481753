// metav1.LabelSelector: validation (apimachinery texts), matching and the canonical string form
// (labels.Selector String()) used in the controller's success message.

import { childPath, forbidden, indexPath, invalid, required, type FieldError } from '../api/field-error.ts';
import type { LabelSelector, LabelSelectorRequirement } from '../api/types.ts';
import { isValidLabelValue, validateLabelName, validateLabels } from './label-validation.ts';
import { compareStrings } from '../text/compare.ts';

export const SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;

/** metav1validation.ValidateLabelSelector; `path` is the selector's own path. */
export function validateLabelSelector(selector: LabelSelector | undefined, path: string): FieldError[] {
  if (selector === undefined) return [];
  const errors = validateLabels(selector.matchLabels, childPath(path, 'matchLabels'));
  (selector.matchExpressions ?? []).forEach((requirement, index) => {
    errors.push(...validateRequirement(requirement, indexPath(childPath(path, 'matchExpressions'), index)));
  });
  return errors;
}

function validateRequirement(requirement: LabelSelectorRequirement, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case 'In':
    case 'NotIn':
      if (values.length === 0) errors.push(required(childPath(path, 'values'), "must be specified when `operator` is 'In' or 'NotIn'"));
      break;
    case 'Exists':
    case 'DoesNotExist':
      if (values.length > 0) errors.push(forbidden(childPath(path, 'values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      break;
    default:
      errors.push(invalid(childPath(path, 'operator'), requirement.operator, 'not a valid selector operator'));
  }
  errors.push(...validateLabelName(requirement.key, childPath(path, 'key')));
  values.forEach((value, index) => {
    const valuePath = indexPath(childPath(path, 'values'), index);
    errors.push(...isValidLabelValue(value).map((message) => invalid(valuePath, value, message)));
  });
  return errors;
}

/**
 * True when `labels` satisfy every requirement. An absent or empty selector selects everything
 * (upstream: a nil namespaceSelector means all namespaces). An unknown operator selects nothing.
 */
export function matchesLabelSelector(selector: LabelSelector | undefined, labels: Readonly<Record<string, string>> | undefined): boolean {
  if (selector === undefined) return true;
  const have = labels ?? {};
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (!Object.hasOwn(have, key) || have[key] !== value) return false;
  }
  for (const requirement of selector.matchExpressions ?? []) {
    if (!matchesRequirement(requirement, have)) return false;
  }
  return true;
}

function matchesRequirement(requirement: LabelSelectorRequirement, labels: Readonly<Record<string, string>>): boolean {
  const present = Object.hasOwn(labels, requirement.key);
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case 'In':
      return present && values.includes(labels[requirement.key] ?? '');
    case 'NotIn':
      return !present || !values.includes(labels[requirement.key] ?? '');
    case 'Exists':
      return present;
    case 'DoesNotExist':
      return !present;
    default:
      return false;
  }
}

/**
 * labels.Selector String() of metav1.LabelSelectorAsSelector(selector): requirements sorted by key,
 * comma-joined; `k=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`; values sorted. `{}` => "".
 */
export function formatLabelSelector(selector: LabelSelector): string {
  const requirements: { key: string; text: string }[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    requirements.push({ key, text: `${key}=${value}` });
  }
  for (const requirement of selector.matchExpressions ?? []) {
    requirements.push({ key: requirement.key, text: formatRequirement(requirement) });
  }
  // Array.prototype.sort is stable; Go's byte-wise string order equals UTF-16 order for label keys.
  return requirements
    .sort((a, b) => compareStrings(a.key, b.key))
    .map((requirement) => requirement.text)
    .join(',');
}

function formatRequirement(requirement: LabelSelectorRequirement): string {
  const values = [...(requirement.values ?? [])].sort(compareStrings);
  const list = values.length === 1 ? (values[0] ?? '') : values.join(',');
  switch (requirement.operator) {
    case 'In':
      return `${requirement.key} in (${list})`;
    case 'NotIn':
      return `${requirement.key} notin (${list})`;
    case 'Exists':
      return requirement.key;
    case 'DoesNotExist':
      return `!${requirement.key}`;
    default:
      return `${requirement.key} ${requirement.operator} (${list})`;
  }
}
