package dev.tokenbroker.serve;

import dev.tokenbroker.ConfigurationException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collection;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns a PEM certificate chain and a PEM PKCS#8 private key (RSA, EC or Ed25519) into an in-memory
 * key store for Jetty. PKCS#1 ({@code BEGIN RSA PRIVATE KEY}) and encrypted keys are refused with
 * the {@code openssl} command that converts them.
 */
final class PemKeys {
  private static final Pattern KEY =
      Pattern.compile("-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END PRIVATE KEY-----");

  static final char[] PASSWORD = "tokenbroker-serve".toCharArray(); // in memory only

  private PemKeys() {}

  static KeyStore keyStore(Path certificateFile, Path keyFile) {
    FileChecks.ownerOnly(keyFile, "tcp.tls.key");
    Collection<? extends Certificate> chain;
    try {
      chain =
          CertificateFactory.getInstance("X.509")
              .generateCertificates(new ByteArrayInputStream(Files.readAllBytes(certificateFile)));
    } catch (IOException | GeneralSecurityException e) {
      throw new ConfigurationException(
          null, "tcp.tls.certificate", "cannot read a PEM certificate from " + certificateFile);
    }
    if (chain.isEmpty()) {
      throw new ConfigurationException(
          null, "tcp.tls.certificate", certificateFile + " holds no certificate");
    }
    PrivateKey key = privateKey(keyFile);
    try {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setKeyEntry("serve", key, PASSWORD, chain.toArray(new Certificate[0]));
      return ks;
    } catch (IOException | GeneralSecurityException e) {
      throw new ConfigurationException(
          null,
          "tcp.tls.key",
          "the key in "
              + keyFile
              + " does not fit the certificate: "
              + e.getClass().getSimpleName());
    }
  }

  private static PrivateKey privateKey(Path keyFile) {
    String pem;
    try {
      pem = Files.readString(keyFile, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new ConfigurationException(null, "tcp.tls.key", "cannot read " + keyFile);
    }
    Matcher m = KEY.matcher(pem);
    if (!m.find()) {
      throw new ConfigurationException(
          null,
          "tcp.tls.key",
          keyFile
              + " holds no unencrypted PKCS#8 key (BEGIN PRIVATE KEY); convert it with `openssl"
              + " pkcs8 -topk8 -nocrypt -in OLD -out NEW`");
    }
    byte[] der = Base64.getMimeDecoder().decode(m.group(1));
    try {
      for (String algorithm : new String[] {"RSA", "EC", "Ed25519"}) {
        try {
          return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (GeneralSecurityException e) {
          // try the next algorithm
        }
      }
    } finally {
      Arrays.fill(der, (byte) 0);
    }
    throw new ConfigurationException(
        null, "tcp.tls.key", keyFile + " holds a key that is not RSA, EC or Ed25519");
  }
}
