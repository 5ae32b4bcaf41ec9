/**
 * The OpenPGP library inside the guest's image-rs, which decides how a signature file and a keyring are
 * read: sequoia-openpgp up to guest-components v0.19.x, rPGP (the `pgp` crate) from v0.20.0 on
 * (upstream f09c0939 "image-rs: replace sequoia-openpgp with pgp (rPGP)").
 *
 * - sequoia: `PacketPile::from_bytes` dearmors an armored signature file; the one-pass, literal and
 *   signature packets are taken at the fixed paths [0,0], [0,1], [0,2], i.e. inside a first compressed
 *   packet, so an uncompressed signed message verifies with no key.
 * - rPGP: `PacketParser` over the raw bytes (an armored signature file is no packet); compressed
 *   packets are opened at any depth and the packets picked out of the flat list; the stored hash prefix
 *   must match.
 * - rPGP reads only the FIRST block of an armored keyring (`from_reader_many` → one `Dearmor`) and
 *   ignores the armor CRC-24 (`DearmorOptions::default()`). sequoia's `armor::Reader` is documented to
 *   extract the first armored block too; that the sequoia-era guest read no further block is inferred
 *   from it, not observed, so the same keyring reading is used for both.
 * - The sequoia verdict also refuses a wrong stored hash prefix, as rPGP does (not observed either).
 */
import type { GuestOpenPgp } from '../releases/guest-components.js';

/** Which release uses which library: `guestOpenPgp(release)` in releases/guest-components.ts. */
export type GuestOpenPgpLibrary = GuestOpenPgp;
