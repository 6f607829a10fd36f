# Shared by every cookbook's specs: one ChefSpec setup, one cookbook path.
require 'chefspec'
require_relative 'test_pki'

RSpec.configure do |config|
  # Every cookbook of this repository, so dependencies resolve by path with no network.
  config.cookbook_path = [__dir__]
  config.platform = 'ubuntu'
  config.version = '24.04'
  config.log_level = :fatal
end
