/**
 * Container IDs and names: 64-hex IDs, and Docker-style `adjective_surname` names for
 * containers started without `--name`.
 *
 * @module
 */

/** Adjectives for generated names (lowercase ASCII letters only). */
export const ADJECTIVES: string[] = [
  "admiring",
  "agile",
  "amiable",
  "amused",
  "ardent",
  "artful",
  "astute",
  "audacious",
  "balanced",
  "blissful",
  "bold",
  "boring",
  "brave",
  "bright",
  "brisk",
  "buoyant",
  "calm",
  "candid",
  "careful",
  "cheerful",
  "clever",
  "curious",
  "dapper",
  "daring",
  "dazzling",
  "decisive",
  "devoted",
  "diligent",
  "dreamy",
  "driven",
  "dynamic",
  "eager",
  "earnest",
  "elated",
  "elegant",
  "eloquent",
  "epic",
  "exuberant",
  "fearless",
  "festive",
  "fierce",
  "focused",
  "frank",
  "friendly",
  "frugal",
  "gallant",
  "generous",
  "gentle",
  "gifted",
  "gleeful",
  "graceful",
  "gracious",
  "grateful",
  "hardy",
  "hearty",
  "helpful",
  "heroic",
  "honest",
  "hopeful",
  "humble",
  "inventive",
  "jolly",
  "jovial",
  "joyful",
  "keen",
  "kind",
  "lively",
  "loyal",
  "lucid",
  "lucky",
  "luminous",
  "merry",
  "mindful",
  "modest",
  "musing",
  "nimble",
  "noble",
  "patient",
  "peaceful",
  "pensive",
  "playful",
  "plucky",
  "polite",
  "precise",
  "proud",
  "quiet",
  "quirky",
  "radiant",
  "rational",
  "relaxed",
  "resolute",
  "serene",
  "sincere",
  "sleepy",
  "spirited",
  "steady",
  "stoic",
  "sturdy",
  "sunny",
  "swift",
  "tender",
  "thoughtful",
  "tidy",
  "tranquil",
  "trusting",
  "upbeat",
  "valiant",
  "vibrant",
  "vigilant",
  "vivid",
  "wise",
  "witty",
  "zealous",
  "zesty",
];

/** Surnames of notable scientists and engineers for generated names (lowercase ASCII letters). */
export const SURNAMES: string[] = [
  "adleman",
  "agnesi",
  "alhazen",
  "ampere",
  "archimedes",
  "aryabhata",
  "avogadro",
  "babbage",
  "backus",
  "bardeen",
  "bartik",
  "bhabha",
  "blackwell",
  "bohr",
  "boole",
  "booth",
  "born",
  "bose",
  "boyle",
  "brahe",
  "brattain",
  "cannon",
  "cantor",
  "carson",
  "carver",
  "cavendish",
  "cerf",
  "chandrasekhar",
  "chebyshev",
  "clarke",
  "conway",
  "copernicus",
  "corbato",
  "coulomb",
  "cray",
  "crick",
  "curie",
  "darwin",
  "diffie",
  "dijkstra",
  "dirac",
  "doppler",
  "easley",
  "edison",
  "einstein",
  "ellis",
  "engelbart",
  "euclid",
  "euler",
  "faraday",
  "fermat",
  "fermi",
  "feynman",
  "fibonacci",
  "fleming",
  "fourier",
  "franklin",
  "galileo",
  "galois",
  "galvani",
  "gauss",
  "germain",
  "gibbs",
  "godel",
  "goldberg",
  "goldwasser",
  "goodall",
  "hamilton",
  "hamming",
  "hawking",
  "heisenberg",
  "hellman",
  "hertz",
  "higgs",
  "hilbert",
  "hoare",
  "hodgkin",
  "hollerith",
  "hooke",
  "hopper",
  "hubble",
  "huygens",
  "hypatia",
  "jackson",
  "jemison",
  "jenner",
  "johnson",
  "joule",
  "kahn",
  "kay",
  "kelvin",
  "kepler",
  "khorana",
  "kilby",
  "kirch",
  "knuth",
  "kovalevskaya",
  "lamarr",
  "lamport",
  "laplace",
  "lavoisier",
  "leakey",
  "leavitt",
  "lehmann",
  "leibniz",
  "lemaitre",
  "liskov",
  "lister",
  "lorentz",
  "lovelace",
  "lyell",
  "marconi",
  "maxwell",
  "mayer",
  "mccarthy",
  "mcclintock",
  "meitner",
  "mendel",
  "mendeleev",
  "merkle",
  "millikan",
  "minsky",
  "mirzakhani",
  "moore",
  "morse",
  "napier",
  "nash",
  "newton",
  "nightingale",
  "nirenberg",
  "noether",
  "noyce",
  "ohm",
  "pascal",
  "pasteur",
  "pauli",
  "pauling",
  "payne",
  "penrose",
  "perlman",
  "pike",
  "planck",
  "poincare",
  "ptolemy",
  "raman",
  "ramanujan",
  "rayleigh",
  "ride",
  "riemann",
  "ritchie",
  "rivest",
  "roentgen",
  "rutherford",
  "sagan",
  "saha",
  "salk",
  "sammet",
  "sanger",
  "shamir",
  "shannon",
  "shockley",
  "snell",
  "somerville",
  "stirling",
  "stonebraker",
  "sutherland",
  "tesla",
  "tharp",
  "thompson",
  "thomson",
  "torvalds",
  "turing",
  "vaughan",
  "volta",
  "wallace",
  "watt",
  "wiles",
  "wilkes",
  "wing",
  "wozniak",
  "wright",
  "wu",
  "yalow",
  "yau",
  "yonath",
  "zuse",
];

/** Steve Wozniak is not boring: Docker never generates this name, and neither do we. */
const NEVER = "boring_wozniak";

/** An index into a list of `length` from a `[0, 1)` random number; clamps a stray 1. */
function pick(random: () => number, length: number): number {
  return Math.min(length - 1, Math.max(0, Math.floor(random() * length)));
}

/**
 * A Docker-style random name, `adjective_surname`; never `boring_wozniak`. Inject `random`
 * (a `Math.random` lookalike) for reproducible names.
 *
 * @example
 * ```ts
 * randomContainerName(); // e.g. "eager_hopper"
 * randomContainerName(() => 0); // "admiring_adleman"
 * ```
 */
export function randomContainerName(random: () => number = Math.random): string {
  for (;;) {
    const adjective = ADJECTIVES[pick(random, ADJECTIVES.length)];
    const surname = SURNAMES[pick(random, SURNAMES.length)];
    const name = `${adjective}_${surname}`;
    if (name !== NEVER) return name;
  }
}

/**
 * Docker's rule for container names, `^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$`: at least two
 * characters, the first a letter or digit; a leading `/` (as the API reports names) is
 * allowed.
 *
 * @example
 * ```ts
 * isValidContainerName("web-1"); // true
 * isValidContainerName("/web-1"); // true
 * isValidContainerName("-web"); // false
 * ```
 */
export function isValidContainerName(name: string): boolean {
  return /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(name);
}

/**
 * A new container ID: 32 random bytes as 64 lowercase hex characters. Like Docker, an ID
 * whose 12-character short form is all digits is drawn again, since a short ID that parses
 * as a number makes a bad hostname. `fill` (default `crypto.getRandomValues`) is injectable
 * for tests.
 *
 * @example
 * ```ts
 * newContainerId(); // e.g. "3f1c0b9e5d2a..." (64 characters)
 * ```
 */
export function newContainerId(
  fill: (bytes: Uint8Array) => void = (bytes) => void crypto.getRandomValues(bytes),
): string {
  const bytes = new Uint8Array(32);
  for (;;) {
    fill(bytes);
    const id = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    if (!/^[0-9]{12}/.test(id)) return id;
  }
}
