#!/usr/bin/env bash
# Cookbook checks the way cookbook authors run them: cookstyle, ChefSpec for every cookbook in
# one rspec process (Chef loads once), and a Berkshelf resolve of the wrapper. Gems come from
# vendor/bundle (see the README).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v ruby >/dev/null || ! command -v bundle >/dev/null; then
  echo "cookbook tests need Ruby >= 3.1 and Bundler: install them (Debian/Ubuntu: apt-get install ruby ruby-bundler) and run npm test again" >&2
  exit 1
fi

export BUNDLE_GEMFILE="$PWD/Gemfile" BUNDLE_PATH="$PWD/vendor/bundle" BUNDLE_FROZEN=true
if ! bundle check >/dev/null 2>&1; then
  echo "cookbook gems are not installed: run 'BUNDLE_PATH=vendor/bundle bundle install' once (it needs access to rubygems.org), then npm test again" >&2
  exit 1
fi

bundle exec cookstyle --format simple cookbooks
bundle exec rspec --format progress cookbooks/*/spec

# The wrapper's dependencies must resolve from this repository alone, as on an offline workstation.
BERKSHELF_PATH=$(mktemp -d)
export BERKSHELF_PATH
trap 'rm -rf "$BERKSHELF_PATH"' EXIT
(cd cookbooks/insight-kafka-cluster && bundle exec berks install --quiet && rm -f Berksfile.lock)
echo "insight-kafka-cluster's Berksfile resolves from path sources"
