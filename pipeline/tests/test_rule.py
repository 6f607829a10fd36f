import unittest

from smart_money import rule


class DeltaBins(unittest.TestCase):
    def test_bins_by_magnitude_so_puts_share_the_bins_of_calls(self):
        self.assertEqual(rule.delta_bin(0.05), "0.00-0.10")
        self.assertEqual(rule.delta_bin(-0.05), "0.00-0.10")
        self.assertEqual(rule.delta_bin(0.5), "0.40-0.60")
        self.assertEqual(rule.delta_bin(-0.5), "0.40-0.60")

    def test_an_edge_belongs_to_the_bin_above_it(self):
        self.assertEqual(rule.delta_bin(0.0999), "0.00-0.10")
        self.assertEqual(rule.delta_bin(0.1), "0.10-0.25")
        self.assertEqual(rule.delta_bin(0.9), "0.90-1.00")
        self.assertEqual(rule.delta_bin(1.0), "0.90-1.00")

    def test_every_label_is_reachable(self):
        seen = {rule.delta_bin(step / 1000) for step in range(0, 1001)}
        self.assertEqual(seen, set(rule.DELTA_LABELS))


class ExpiryBins(unittest.TestCase):
    def test_days_count_from_the_trade_date_to_expiration(self):
        self.assertEqual(rule.days_to_expiry("2026-11-20 09:30:01.512", "2026-11-27"), 7)
        self.assertEqual(rule.days_to_expiry("2026-11-20 15:59:59.999", "2026-11-20"), 0)

    def test_an_edge_belongs_to_the_bin_below_it(self):
        self.assertEqual([rule.day_bin(days) for days in (0, 7, 8, 30, 31, 90, 91, 180, 181, 400)],
                         ["0-7", "0-7", "8-30", "8-30", "31-90", "31-90", "91-180", "91-180", "181+", "181+"])


class ZScore(unittest.TestCase):
    def test_counts_standard_deviations_above_the_mean(self):
        self.assertAlmostEqual(rule.z_score(40, 10, 5), 6.0)
        self.assertAlmostEqual(rule.z_score(5, 10, 5), -1.0)

    def test_has_no_score_without_a_spread(self):
        self.assertIsNone(rule.z_score(40, 10, 0))
        self.assertIsNone(rule.z_score(40, 10, None))
        self.assertFalse(rule.is_unusual(40, 10, 0))

    def test_flags_strictly_above_the_threshold(self):
        self.assertFalse(rule.is_unusual(25, 10, 5, threshold=3.0))
        self.assertTrue(rule.is_unusual(25.01, 10, 5, threshold=3.0))
        self.assertTrue(rule.is_unusual(21, 10, 5, threshold=2.0))

    def test_put_call_takes_only_c_or_p(self):
        self.assertEqual(rule.put_call(" c"), "C")
        with self.assertRaisesRegex(ValueError, "option_type 'X' is not C or P"):
            rule.put_call("X")
