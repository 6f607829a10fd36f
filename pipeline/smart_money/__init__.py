"""The Smart Money Tracker: flags option trades far larger than their kind's usual size."""
