require 'openssl'

# Certificates for the cookbooks' TLS specs: a platform CA and a node certificate as the bootstrap
# makes them (shared subject, the node's address in its SAN), made once for every example, and
# certificate() for the specs that need others.
module TestPki
  module_function

  def certificate(subject, key, issuer_subject, issuer_key, extensions)
    cert = OpenSSL::X509::Certificate.new
    cert.version = 2
    cert.serial = rand(1 << 62)
    cert.subject = OpenSSL::X509::Name.parse(subject)
    cert.issuer = OpenSSL::X509::Name.parse(issuer_subject)
    cert.public_key = key
    cert.not_before = Time.now - 60
    cert.not_after = Time.now + (365 * 86_400)
    factory = OpenSSL::X509::ExtensionFactory.new
    factory.subject_certificate = cert
    factory.issuer_certificate = cert
    extensions.each { |name, value| cert.add_extension(factory.create_extension(name, value, name == 'basicConstraints')) }
    cert.sign(issuer_key, OpenSSL::Digest.new('SHA256'))
  end

  def material
    @material ||= begin
      ca_key = OpenSSL::PKey::RSA.new(2048)
      ca = certificate('/CN=platform-ca', ca_key, '/CN=platform-ca', ca_key, 'basicConstraints' => 'CA:TRUE')
      node_key = OpenSSL::PKey::RSA.new(2048)
      node = certificate('/O=insight-prod/CN=kafka-broker', node_key, '/CN=platform-ca', ca_key,
                         'basicConstraints' => 'CA:FALSE', 'subjectAltName' => 'IP:10.0.32.6,DNS:ip-10-0-32-6.internal')
      { key: node_key.private_to_pem, cert: node.to_pem, ca: ca.to_pem }
    end
  end

  def platform_tls
    material.merge(subject: 'CN=kafka-broker,O=insight-prod')
  end
end
