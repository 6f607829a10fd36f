#!/usr/bin/env bash
# Cookbook checks the way cookbook authors run them: cookstyle, then ChefSpec for every cookbook
# in one rspec process (Chef loads once). Gems come from vendor/bundle (see the README).
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
