require_relative '../../libraries/helpers'

# ChefSpec runs where no data volume is mounted: examples about something else take the volume
# check as passed. The data volume examples stub the mount table instead.
RSpec.shared_context 'a mounted data volume' do
  before { allow(KafkaCluster::Helpers).to receive(:data_volume_problem).and_return(nil) }
end
