//! Masking of personal data for staff views and logs (BRIEF §7).

/// The most characters a masked phone number ever shows: the first 3 and
/// last 4 of a mobile number (`138****1234`).
pub const MAX_REVEALED: usize = 7;
/// The fewest characters a masked phone number hides.
pub const MIN_HIDDEN: usize = 4;

/// How many characters of an `n`-character number [`mask_phone`] shows:
/// at most [`MAX_REVEALED`], never more than half, and at least
/// [`MIN_HIDDEN`] stay hidden. An 11-digit mobile keeps 3 + 4; a 7-digit
/// number keeps its last 3; 4 characters or fewer show nothing.
pub const fn revealed(n: usize) -> usize {
    if n >= 11 {
        MAX_REVEALED
    } else {
        let half = n / 2;
        let room = n.saturating_sub(MIN_HIDDEN);
        if half < room { half } else { room }
    }
}

/// `13812341234` → `138****1234`; `1234567` → `****567`. The number of
/// characters shown is [`revealed`]: up to 4 at the end, the rest (up to 3)
/// at the start; everything else is a `*`, one per character.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    let n = chars.len();
    let shown = revealed(n);
    let tail = shown.min(4);
    let head = shown - tail;
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i < head || i >= n - tail { *c } else { '*' })
        .collect()
}

/// `张三丰` → `张**`: the family name stays so a caller can address the person.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.trim().chars();
    match chars.next() {
        None => String::new(),
        Some(first) => {
            let rest = chars.count().max(1);
            format!("{first}{}", "*".repeat(rest))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_keep_three_and_four_digits() {
        assert_eq!(mask_phone("13812341234"), "138****1234");
        assert_eq!(mask_phone("+8613812341234"), "+86*******1234");
        assert_eq!(mask_phone("12345"), "****5");
        assert_eq!(mask_phone("1234"), "****");
    }

    #[test]
    fn a_short_number_is_not_shown_whole() {
        // The finding: `1234567` → `123****4567` showed every digit.
        assert_eq!(mask_phone("1234567"), "****567");
        assert_eq!(mask_phone("62345678"), "****5678");
    }

    /// Property, over every length and many digit strings: the mask keeps
    /// the length, stars every hidden position, shows at most 7 characters,
    /// at most half of a number shorter than a mobile, and hides at least 4.
    #[test]
    fn a_masked_number_never_reveals_more_than_its_share() {
        let mut seed: u64 = 0x5eed;
        for n in 0..=32usize {
            for _ in 0..64 {
                let phone: String = (0..n)
                    .map(|_| {
                        seed = seed
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        char::from(b'0' + ((seed >> 33) % 10) as u8)
                    })
                    .collect();
                let masked = mask_phone(&phone);
                assert_eq!(masked.chars().count(), n, "{phone} → {masked}");
                let shown = masked
                    .chars()
                    .zip(phone.chars())
                    .filter(|(m, p)| {
                        assert!(*m == *p || *m == '*', "{phone} → {masked}");
                        *m != '*'
                    })
                    .count();
                assert!(shown <= MAX_REVEALED, "{phone} → {masked}");
                assert!(n - shown >= MIN_HIDDEN.min(n), "{phone} → {masked}");
                if n < 11 {
                    assert!(shown * 2 <= n, "{phone} → {masked}");
                }
            }
        }
    }

    #[test]
    fn names_keep_the_family_name() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
        assert_eq!(mask_name("李"), "李*");
        assert_eq!(mask_name(""), "");
    }
}
