// The built-in card profiles (JSON under profiles/), listed and loaded by name. JSON is imported rather than
// read from disk so the files travel with the build output; add a profile by adding a file and a line here.

import defaultProfile from './profiles/default.json' with { type: 'json' };
import t1OnlyProfile from './profiles/t1-only.json' with { type: 'json' };
import pivProfile from './profiles/piv.json' with { type: 'json' };
import openpgpProfile from './profiles/openpgp.json' with { type: 'json' };
import { CardProfileError } from './errors.js';
import { validateProfile, type CardProfile } from './profile.js';

const BUILT_IN: Readonly<Record<string, unknown>> = {
  default: defaultProfile,
  't1-only': t1OnlyProfile,
  piv: pivProfile,
  openpgp: openpgpProfile,
};

export const DEFAULT_PROFILE = 'default';

/** Names of the built-in profiles, `default` first. */
export function listProfiles(): string[] {
  return Object.keys(BUILT_IN);
}

/** A validated copy of a built-in profile; unknown names and invalid files give CardProfileError. */
export function loadProfile(name: string): CardProfile {
  if (!Object.hasOwn(BUILT_IN, name)) {
    throw new CardProfileError(name, [`no such profile (available: ${listProfiles().join(', ')})`]);
  }
  const profile = validateProfile(structuredClone(BUILT_IN[name]), `profiles/${name}.json`);
  if (profile.name !== name) throw new CardProfileError(name, [`profiles/${name}.json declares name "${profile.name}"`]);
  return profile;
}
