#!/usr/bin/env bash
# Cookbook checks the way cookbook authors run them: cookstyle, ChefSpec for every cookbook in
# one rspec process (Chef loads once), and a Berkshelf resolve of the wrapper. Gems come from
# vendor/bundle, installed there on the first run.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v ruby >/dev/null || ! command -v bundle >/dev/null; then
  echo "cookbook tests need Ruby >= 3.1 and Bundler: install them (Debian/Ubuntu: apt-get install ruby ruby-bundler) and run npm test again" >&2
  exit 1
fi

export BUNDLE_GEMFILE="$PWD/Gemfile" BUNDLE_PATH="$PWD/vendor/bundle" BUNDLE_FROZEN=true
# The first run installs the gems Gemfile.lock pins into the project (never system-wide).
if ! bundle check >/dev/null 2>&1; then
  echo "installing the cookbook test gems from Gemfile.lock into vendor/bundle (once; needs rubygems.org)"
  if ! bundle install --jobs 4 --retry 3 --quiet; then
    echo "could not install the cookbook gems into vendor/bundle: see bundle's message above (a C compiler and Ruby's headers are needed: Debian/Ubuntu: apt-get install build-essential ruby-dev)" >&2
    exit 1
  fi
fi

bundle exec cookstyle --format simple cookbooks
bundle exec rspec --format progress cookbooks/*/spec

# The wrapper's dependencies must resolve from this repository alone, as on an offline workstation.
BERKSHELF_PATH=$(mktemp -d)
export BERKSHELF_PATH
trap 'rm -rf "$BERKSHELF_PATH"' EXIT
(cd cookbooks/insight-kafka-cluster && bundle exec berks install --quiet && rm -f Berksfile.lock)
echo "insight-kafka-cluster's Berksfile resolves from path sources"
