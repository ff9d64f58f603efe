//! Order statistics for the routing reports: median and 90th percentile of
//! durations such as "time to accept".
//!
//! Percentiles use the **nearest-rank** method: the p-th percentile of n
//! sorted values is the value at 1-based rank ⌈p·n/100⌉. Every answer is a
//! value that was actually observed (a real case took exactly that long),
//! figures can be checked by hand, and integer seconds stay integers. For
//! an even count the median is the lower of the two middle values.

/// The `percent`-th percentile (1..=100) of `sorted` by nearest rank;
/// `None` for no values. `sorted` must be in ascending order.
///
/// A `percent` of 0 is treated as 1 (the smallest value), above 100 as 100.
pub fn nearest_rank<T: Copy>(sorted: &[T], percent: u32) -> Option<T> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    let percent = percent.clamp(1, 100) as usize;
    // ⌈percent·n/100⌉ in integers, so no rounding error at exact ranks.
    let rank = (percent * n).div_ceil(100).max(1);
    Some(sorted[rank - 1])
}

/// Count, median and 90th percentile of a set of durations in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DurationSummary {
    pub count: u64,
    /// `None` when there are no values.
    pub median_secs: Option<i64>,
    /// `None` when there are no values.
    pub p90_secs: Option<i64>,
}

impl DurationSummary {
    /// Summarise durations given in any order.
    pub fn of(mut secs: Vec<i64>) -> Self {
        secs.sort_unstable();
        Self {
            count: secs.len() as u64,
            median_secs: nearest_rank(&secs, 50),
            p90_secs: nearest_rank(&secs, 90),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_values_have_no_percentiles() {
        assert_eq!(nearest_rank::<i64>(&[], 50), None);
        assert_eq!(
            DurationSummary::of(Vec::new()),
            DurationSummary {
                count: 0,
                median_secs: None,
                p90_secs: None
            }
        );
    }

    #[test]
    fn one_value_is_every_percentile() {
        for percent in [0, 1, 50, 90, 100, 250] {
            assert_eq!(nearest_rank(&[42], percent), Some(42));
        }
        assert_eq!(
            DurationSummary::of(vec![42]),
            DurationSummary {
                count: 1,
                median_secs: Some(42),
                p90_secs: Some(42)
            }
        );
    }

    #[test]
    fn an_even_count_takes_the_lower_middle_value_as_median() {
        assert_eq!(nearest_rank(&[10, 20, 30, 40], 50), Some(20));
        assert_eq!(nearest_rank(&[10, 20], 50), Some(10));
    }

    #[test]
    fn an_odd_count_takes_the_middle_value_as_median() {
        assert_eq!(nearest_rank(&[1, 2, 3, 4, 5], 50), Some(3));
    }

    #[test]
    fn p90_is_at_rank_ceil_of_ninety_percent() {
        let ten: Vec<i64> = (1..=10).collect();
        // 0.9 × 10 = 9 exactly: rank 9, not 10.
        assert_eq!(nearest_rank(&ten, 90), Some(9));
        let eleven: Vec<i64> = (1..=11).collect();
        // 0.9 × 11 = 9.9: rank 10.
        assert_eq!(nearest_rank(&eleven, 90), Some(10));
        // Fewer than ten values: p90 is the largest.
        assert_eq!(nearest_rank(&[5, 6, 7], 90), Some(7));
        let hundred: Vec<i64> = (1..=100).collect();
        assert_eq!(nearest_rank(&hundred, 90), Some(90));
        assert_eq!(nearest_rank(&hundred, 100), Some(100));
        assert_eq!(nearest_rank(&hundred, 1), Some(1));
    }

    #[test]
    fn out_of_range_percents_are_clamped() {
        assert_eq!(nearest_rank(&[3, 4, 5], 0), Some(3));
        assert_eq!(nearest_rank(&[3, 4, 5], 101), Some(5));
    }

    #[test]
    fn the_summary_sorts_its_input_first() {
        let summary = DurationSummary::of(vec![300, 60, 600, 120, 30]);
        assert_eq!(summary.count, 5);
        // Sorted: 30 60 120 300 600 → rank 3 and rank ⌈4.5⌉ = 5.
        assert_eq!(summary.median_secs, Some(120));
        assert_eq!(summary.p90_secs, Some(600));
    }

    #[test]
    fn negative_durations_are_kept_not_hidden() {
        // A clock step between instances can put accepted_at before
        // created_at; the report shows it rather than rounding it away.
        let summary = DurationSummary::of(vec![-5, 10, 20]);
        assert_eq!(summary.median_secs, Some(10));
        assert_eq!(nearest_rank(&[-5, 10, 20], 1), Some(-5));
    }
}
