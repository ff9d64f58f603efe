//! Upload limits and the error type, whose codes are the API's.

/// What one upload may be. A typed value from configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest photo accepted, in bytes, as uploaded (before stripping).
    pub max_bytes: usize,
    /// How many photos one tip may carry, counting those attached later.
    pub max_photos_per_tip: usize,
}

impl Default for Limits {
    /// 8 MiB holds a full-resolution photo from a current phone (typically
    /// 2–6 MB); six photos tell a story without making a tip a photo album.
    fn default() -> Self {
        Self {
            max_bytes: 8 * 1024 * 1024,
            max_photos_per_tip: 6,
        }
    }
}

impl Limits {
    /// Checks a photo's size. Also usable while a multipart body streams in,
    /// with the bytes received so far, to stop reading early.
    pub fn check_size(&self, len: usize) -> Result<(), MediaError> {
        if len > self.max_bytes {
            return Err(MediaError::TooLarge {
                len,
                max: self.max_bytes,
            });
        }
        Ok(())
    }

    /// Checks that `adding` more photos fit on a tip that has `attached`.
    pub fn check_count(&self, attached: usize, adding: usize) -> Result<(), MediaError> {
        if attached.saturating_add(adding) > self.max_photos_per_tip {
            return Err(MediaError::TooManyPhotos {
                max: self.max_photos_per_tip,
            });
        }
        Ok(())
    }
}

/// Why a photo was refused. [`code`](Self::code) is stable and goes out as
/// the API error code; the API chooses the status (typically 415, 413, 422
/// and 409 or 422 respectively).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    #[error("only JPEG, PNG and WebP photos are accepted")]
    TypeNotAllowed,
    #[error("the photo is {len} bytes; at most {max} are accepted")]
    TooLarge { len: usize, max: usize },
    /// The file starts like an image but its structure is broken (truncated
    /// upload, a length running past the end, a missing end marker).
    #[error("the photo file is damaged or incomplete: {0}")]
    Malformed(&'static str),
    #[error("a tip carries at most {max} photos")]
    TooManyPhotos { max: usize },
}

impl MediaError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::TypeNotAllowed => "photo_type_not_allowed",
            Self::TooLarge { .. } => "photo_too_large",
            Self::Malformed(_) => "photo_malformed",
            Self::TooManyPhotos { .. } => "too_many_photos",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_api_codes() {
        assert_eq!(MediaError::TypeNotAllowed.code(), "photo_type_not_allowed");
        assert_eq!(
            MediaError::TooLarge { len: 2, max: 1 }.code(),
            "photo_too_large"
        );
        assert_eq!(MediaError::Malformed("x").code(), "photo_malformed");
        assert_eq!(
            MediaError::TooManyPhotos { max: 6 }.code(),
            "too_many_photos"
        );
    }

    #[test]
    fn size_limit_is_inclusive() {
        let limits = Limits {
            max_bytes: 100,
            ..Limits::default()
        };
        assert_eq!(limits.check_size(100), Ok(()));
        assert_eq!(
            limits.check_size(101),
            Err(MediaError::TooLarge { len: 101, max: 100 })
        );
    }

    #[test]
    fn defaults_are_eight_mebibytes_and_six_photos() {
        let limits = Limits::default();
        assert_eq!(limits.max_bytes, 8 * 1024 * 1024);
        assert_eq!(limits.max_photos_per_tip, 6);
    }

    #[test]
    fn photo_count_counts_those_already_attached() {
        let limits = Limits::default();
        assert_eq!(limits.check_count(0, 6), Ok(()));
        assert_eq!(limits.check_count(5, 1), Ok(()));
        assert_eq!(
            limits.check_count(5, 2),
            Err(MediaError::TooManyPhotos { max: 6 })
        );
        assert_eq!(
            limits.check_count(usize::MAX, 1),
            Err(MediaError::TooManyPhotos { max: 6 })
        );
    }
}
