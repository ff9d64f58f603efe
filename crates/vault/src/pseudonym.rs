//! Keyed hashes that let us count and find without knowing who: an
//! anonymous tipper's pseudonym (screening and rate limits), a retried
//! submission's key, and the tracking token an anonymous tipper follows
//! their tip with. HMAC-SHA256 with a server secret: without the secret a
//! pseudonym cannot be linked back to a WeChat identity, not even by
//! hashing every known openid.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::fmt;

pub struct Pseudonymiser {
    key: hmac::Key,
}

impl fmt::Debug for Pseudonymiser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pseudonymiser(..)")
    }
}

impl Pseudonymiser {
    /// `secret` should be at least 32 random bytes; the label separates
    /// this use of a shared secret from any other.
    pub fn new(secret: &[u8]) -> Self {
        let root = hmac::Key::new(hmac::HMAC_SHA256, secret);
        let derived = hmac::sign(&root, b"sansuo/pseudonyms/v1");
        Pseudonymiser {
            key: hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()),
        }
    }

    fn mac(&self, purpose: &str, parts: &[&[u8]]) -> hmac::Tag {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(purpose.as_bytes());
        for part in parts {
            // Length-prefixed, so ("ab","c") and ("a","bc") differ.
            ctx.update(&(part.len() as u64).to_be_bytes());
            ctx.update(part);
        }
        ctx.sign()
    }

    /// A stable pseudonym (64 hex characters) of `subject` for `purpose`.
    pub fn pseudonym(&self, purpose: &str, subject: &[u8]) -> String {
        hex(self.mac(purpose, &[subject]).as_ref())
    }

    /// A pseudonym of two things together (e.g. a reporter and their
    /// Idempotency-Key).
    pub fn pseudonym_of_pair(&self, purpose: &str, a: &[u8], b: &[u8]) -> String {
        hex(self.mac(purpose, &[a, b]).as_ref())
    }

    /// A pseudonym of `subject` that lives one window: the HMAC key is
    /// derived from the secret, the purpose and the window number, so the
    /// pseudonyms of two windows cannot be joined, and rows holding them can
    /// be deleted when their window ends (after which nothing stored links).
    pub fn window_pseudonym(&self, purpose: &str, window: i64, subject: &[u8]) -> String {
        let window_key = self.mac("window-key", &[purpose.as_bytes(), &window.to_be_bytes()]);
        let key = hmac::Key::new(hmac::HMAC_SHA256, window_key.as_ref());
        hex(hmac::sign(&key, subject).as_ref())
    }

    /// A secret token for `subject` (URL-safe, 32 characters, 192 bits):
    /// derived rather than random, so a retried submission hands out the
    /// same token without it ever being stored.
    pub fn token(&self, purpose: &str, subject: &[u8]) -> String {
        let tag = self.mac(purpose, &[subject]);
        URL_SAFE_NO_PAD.encode(&tag.as_ref()[..24])
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonyms_are_stable_keyed_and_separated_by_purpose() {
        let a = Pseudonymiser::new(b"0123456789abcdef0123456789abcdef");
        let b = Pseudonymiser::new(b"another secret of thirty-two byt");
        let subject = b"resident-42";
        assert_eq!(
            a.pseudonym("tip-reporter", subject),
            a.pseudonym("tip-reporter", subject)
        );
        assert_eq!(a.pseudonym("tip-reporter", subject).len(), 64);
        assert_ne!(
            a.pseudonym("tip-reporter", subject),
            b.pseudonym("tip-reporter", subject)
        );
        assert_ne!(
            a.pseudonym("tip-reporter", subject),
            a.pseudonym("tip-supporter", subject)
        );
        assert_ne!(
            a.pseudonym_of_pair("k", b"ab", b"c"),
            a.pseudonym_of_pair("k", b"a", b"bc")
        );
    }

    #[test]
    fn window_pseudonyms_change_with_the_window_and_the_purpose() {
        let a = Pseudonymiser::new(b"0123456789abcdef0123456789abcdef");
        let subject = b"resident-42";
        let this = a.window_pseudonym("screening", 7, subject);
        assert_eq!(this, a.window_pseudonym("screening", 7, subject));
        assert_ne!(this, a.window_pseudonym("screening", 8, subject));
        assert_ne!(this, a.window_pseudonym("other", 7, subject));
        assert_ne!(this, a.pseudonym("screening", subject));
        assert_eq!(this.len(), 64);
    }

    #[test]
    fn tokens_are_url_safe_and_secret_dependent() {
        let a = Pseudonymiser::new(b"0123456789abcdef0123456789abcdef");
        let t = a.token("tip-tracking", b"case-1");
        assert_eq!(t.len(), 32);
        assert!(
            t.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_eq!(t, a.token("tip-tracking", b"case-1"));
        assert_ne!(t, a.token("tip-tracking", b"case-2"));
        let b = Pseudonymiser::new(b"another secret of thirty-two byt");
        assert_ne!(t, b.token("tip-tracking", b"case-1"));
        assert_eq!(format!("{a:?}"), "Pseudonymiser(..)");
    }
}
