//! The language of resident-facing words: Chinese, unless the client asks
//! for English (`Accept-Language` whose most preferred of `zh`/`en` is `en`).

/// A language we write resident-facing text in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    /// From an `Accept-Language` header (RFC 9110): the supported language
    /// with the highest weight, the first listed on a tie; Chinese when the
    /// header is absent, malformed or names neither.
    pub fn from_accept_language(header: Option<&str>) -> Lang {
        let Some(header) = header else {
            return Lang::Zh;
        };
        let mut best: Option<(Lang, f32)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let primary = tag.split('-').next().unwrap_or("");
            let lang = match primary {
                "zh" => Lang::Zh,
                "en" => Lang::En,
                _ => continue,
            };
            let weight = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())
                .unwrap_or(0.0);
            if weight > 0.0 && best.is_none_or(|(_, w)| weight > w) {
                best = Some((lang, weight));
            }
        }
        best.map_or(Lang::Zh, |(lang, _)| lang)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_unless_english_is_preferred() {
        for (header, want) in [
            (None, Lang::Zh),
            (Some(""), Lang::Zh),
            (Some("en"), Lang::En),
            (Some("en-US,en;q=0.9"), Lang::En),
            (Some("zh-CN,zh;q=0.9,en;q=0.8"), Lang::Zh),
            (Some("fr, en;q=0.5"), Lang::En),
            (Some("fr"), Lang::Zh),
            (Some("zh;q=0.3, en;q=0.7"), Lang::En),
            (Some("en;q=0"), Lang::Zh),
            (Some("en;q=abc"), Lang::Zh),
        ] {
            assert_eq!(Lang::from_accept_language(header), want, "{header:?}");
        }
    }
}
