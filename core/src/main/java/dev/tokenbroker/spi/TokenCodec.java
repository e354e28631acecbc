package dev.tokenbroker.spi;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.store.TokenStoreException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import org.jspecify.annotations.Nullable;

/**
 * Turns a {@link TokenSet} into the bytes a store keeps, and back: versioned JSON, sealed with
 * AES-256-GCM when {@link EncryptionKeys} are given. The file, JDBC and Redis stores share it, so a
 * record moves between them unchanged.
 *
 * <p>A record is one JSON object (UTF-8):
 *
 * <pre>
 * in the clear: {"tokenbroker":1,"connection":"cafe24:mall","tokens":{…}}
 * encrypted:    {"tokenbroker":1,"connection":"cafe24:mall","alg":"A256GCM","kid":"1f2e3d4c",
 *                "iv":"…","data":"…"}
 * </pre>
 *
 * {@code tokens} holds every field of the set, its store version included; encrypted, the same
 * object is the plaintext of {@code data} (base64 of ciphertext and 128-bit tag) under a fresh
 * random 96-bit {@code iv}. The connection id and key id stay readable (a store lists connections
 * without a key, and an operator sees which key a record needs) and are bound to the ciphertext as
 * additional authenticated data, so a record copied onto another connection does not decrypt.
 *
 * <p>Decoding accepts records in the clear even when keys are given, so that turning encryption on
 * needs no migration: each record is encrypted at its next save. A record encrypted with a key not
 * in the ring, or that does not decrypt, is a {@link TokenStoreException} naming the connection and
 * the key id, never a silent empty result.
 *
 * <p>Immutable and thread-safe.
 */
public final class TokenCodec {
  /** The record format this class writes; it reads this one only. */
  public static final int FORMAT = 1;

  private static final String ALG = "A256GCM";
  private static final int IV_BYTES = 12;
  private static final int TAG_BITS = 128;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final @Nullable EncryptionKeys keys;
  private final SecureRandom random;

  private TokenCodec(@Nullable EncryptionKeys keys) {
    this.keys = keys;
    this.random = new SecureRandom();
  }

  /**
   * Writes records in the clear; reads clear records only.
   *
   * @return a codec that writes in the clear
   */
  public static TokenCodec plaintext() {
    return new TokenCodec(null);
  }

  /**
   * Encrypts with the ring's current key; reads records of any key in the ring, or in the clear.
   *
   * @param keys the encryption keys
   * @return an encrypting codec
   */
  public static TokenCodec encrypted(EncryptionKeys keys) {
    return new TokenCodec(Objects.requireNonNull(keys, "keys"));
  }

  /**
   * {@link #encrypted} when {@code keys} is not null, else {@link #plaintext}.
   *
   * @param keys the encryption keys
   * @return the codec
   */
  public static TokenCodec of(@Nullable EncryptionKeys keys) {
    return new TokenCodec(keys);
  }

  /**
   * True when new records are encrypted.
   *
   * @return true when new records are encrypted
   */
  public boolean encrypts() {
    return keys != null;
  }

  /**
   * The id of the key new records are encrypted with, or null in the clear.
   *
   * @return the id of the key new records are encrypted with, or null in the clear
   */
  public @Nullable String currentKeyId() {
    return keys == null ? null : keys.currentId();
  }

  /**
   * The record for {@code tokens}, which keeps its {@link TokenSet#version() version}.
   *
   * @param id the connection
   * @param tokens the token set
   * @return the record for {@code tokens}, which keeps its {@link TokenSet#version() version}
   */
  public byte[] encode(ConnectionId id, TokenSet tokens) {
    ObjectNode body = TokenSetJson.toJson(tokens);
    ObjectNode record = JSON.createObjectNode();
    record.put("tokenbroker", FORMAT);
    record.put("connection", id.toString());
    EncryptionKeys k = keys;
    if (k == null) {
      record.set("tokens", body);
    } else {
      byte[] iv = new byte[IV_BYTES];
      random.nextBytes(iv);
      byte[] plain = writeBytes(body);
      byte[] sealed;
      try {
        Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
        c.init(Cipher.ENCRYPT_MODE, k.current(), new GCMParameterSpec(TAG_BITS, iv));
        c.updateAAD(aad(id, k.currentId()));
        sealed = c.doFinal(plain);
      } catch (GeneralSecurityException e) {
        throw new TokenStoreException(
            id, "connection " + id + ": cannot encrypt tokens: " + e.getClass().getSimpleName(), e);
      } finally {
        Arrays.fill(plain, (byte) 0);
      }
      record.put("alg", ALG);
      record.put("kid", k.currentId());
      record.put("iv", Base64.getEncoder().encodeToString(iv));
      record.put("data", Base64.getEncoder().encodeToString(sealed));
    }
    return writeBytes(record);
  }

  /**
   * {@link #encode} as text, for stores that keep text columns or values.
   *
   * @param id the connection
   * @param tokens the token set
   * @return the record as text
   */
  public String encodeToString(ConnectionId id, TokenSet tokens) {
    return new String(encode(id, tokens), StandardCharsets.UTF_8);
  }

  /**
   * The set a record holds, with the version recorded in it.
   *
   * @param id the connection
   * @param record the stored record
   * @return the token set the record holds, with the version recorded in it
   * @throws TokenStoreException naming the connection if the record is not valid JSON of a known
   *     format, belongs to another connection, is encrypted with a key that is not in the ring, or
   *     does not decrypt (wrong key or altered bytes)
   */
  public TokenSet decode(ConnectionId id, byte[] record) {
    JsonNode root;
    try {
      root = JSON.readTree(record);
    } catch (IOException | RuntimeException | StackOverflowError e) {
      throw corrupt(id, "is not valid JSON", null);
    }
    if (root == null || !root.isObject()) {
      throw corrupt(id, "is not a JSON object", null);
    }
    JsonNode format = root.get("tokenbroker");
    if (format == null || !format.canConvertToInt()) {
      throw corrupt(id, "has no 'tokenbroker' format number", null);
    }
    if (format.intValue() != FORMAT) {
      throw corrupt(
          id,
          "has format "
              + format.intValue()
              + ", this version of Tokenbroker reads format "
              + FORMAT
              + " (written by a newer version?)",
          null);
    }
    String owner = TokenSetJson.text(root, "connection");
    if (owner == null) {
      throw corrupt(id, "names no connection", null);
    }
    if (!owner.equals(id.toString())) {
      throw corrupt(id, "belongs to " + describeOwner(owner), null);
    }
    JsonNode body;
    if (root.has("tokens")) {
      body = root.get("tokens");
    } else {
      body = decrypt(id, root);
    }
    return TokenSetJson.fromJson(id, body);
  }

  /**
   * {@link #decode} of a text record.
   *
   * @param id the connection
   * @param record the stored record
   * @return the token set the record holds, with the version recorded in it
   */
  public TokenSet decode(ConnectionId id, String record) {
    return decode(id, record.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * The connection a record names, read without decrypting, or null when the bytes are not a
   * record. For stores that list connections from their records.
   *
   * @param record the stored record
   * @return the connection a record names, read without decrypting, or null when the bytes are not
   *     a record
   */
  public static @Nullable String connectionOf(byte[] record) {
    try {
      JsonNode root = JSON.readTree(record);
      return root == null ? null : TokenSetJson.text(root, "connection");
    } catch (IOException | RuntimeException | StackOverflowError e) {
      return null;
    }
  }

  private JsonNode decrypt(ConnectionId id, JsonNode root) {
    String alg = TokenSetJson.text(root, "alg");
    String kid = TokenSetJson.text(root, "kid");
    String iv = TokenSetJson.text(root, "iv");
    String data = TokenSetJson.text(root, "data");
    if (alg == null || kid == null || iv == null || data == null) {
      throw corrupt(id, "has neither 'tokens' nor a complete encrypted envelope", null);
    }
    if (!alg.equals(ALG)) {
      throw corrupt(id, "is encrypted with unknown algorithm '" + printable(alg) + "'", null);
    }
    EncryptionKeys k = keys;
    if (k == null) {
      throw new TokenStoreException(
          id,
          "connection "
              + id
              + ": stored tokens are encrypted with key id '"
              + printable(kid)
              + "' but no encryption key is configured",
          null);
    }
    SecretKey key = k.key(kid);
    if (key == null) {
      throw new TokenStoreException(
          id,
          "connection "
              + id
              + ": stored tokens are encrypted with key id '"
              + printable(kid)
              + "', which is not among the configured keys "
              + k.ids()
              + " (add it as a previous key)",
          null);
    }
    byte[] plain;
    try {
      byte[] ivBytes = Base64.getDecoder().decode(iv);
      byte[] sealed = Base64.getDecoder().decode(data);
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, ivBytes));
      c.updateAAD(aad(id, kid));
      plain = c.doFinal(sealed);
    } catch (IllegalArgumentException e) {
      throw corrupt(id, "has an encrypted envelope that is not valid base64", null);
    } catch (AEADBadTagException e) {
      throw new TokenStoreException(
          id,
          "connection "
              + id
              + ": stored tokens cannot be decrypted with key id '"
              + kid
              + "': the key is wrong or the record was altered",
          null);
    } catch (GeneralSecurityException e) {
      throw corrupt(id, "cannot be decrypted: " + e.getClass().getSimpleName(), e);
    } catch (RuntimeException e) {
      // The JDK's GCM throws ProviderException (ShortBufferException) for a ciphertext shorter
      // than its tag: altered bytes all the same.
      throw corrupt(id, "cannot be decrypted: " + e.getClass().getSimpleName(), null);
    }
    try {
      return JSON.readTree(plain);
    } catch (IOException | RuntimeException | StackOverflowError e) {
      throw corrupt(id, "decrypts to something that is not JSON", null);
    } finally {
      Arrays.fill(plain, (byte) 0);
    }
  }

  private static byte[] aad(ConnectionId id, String kid) {
    return ("tokenbroker:" + FORMAT + ":" + ALG + ":" + kid + ":" + id)
        .getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] writeBytes(JsonNode node) {
    try {
      return JSON.writeValueAsBytes(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a JSON tree always serializes", e);
    }
  }

  /** The exception for a record that cannot be read: it names the connection, never a value. */
  static TokenStoreException corrupt(ConnectionId id, String problem, @Nullable Throwable cause) {
    return new TokenStoreException(
        id, "connection " + id + ": stored record is corrupt: it " + problem, cause);
  }

  /** The connection a record names, for a message: only a valid id is repeated. */
  private static String describeOwner(String owner) {
    try {
      return "connection " + ConnectionId.parse(owner);
    } catch (IllegalArgumentException e) {
      return "something that is not a connection id";
    }
  }

  private static String printable(String s) {
    return Secrets.scrub(s, List.of(), 64);
  }

  // ---------------------------------------------------------------- one-time record values

  private static final String ONCE_CLEAR = "o1:";
  private static final String ONCE_SEALED = "o1e:";

  /**
   * The text a store keeps for the value of a one-time record ({@code TokenStore#putOnce}), sealed
   * with AES-256-GCM under the current key when this codec encrypts, bound to the record's key
   * digest ({@code OnceKeys#digest}) so that a value moved to another key does not open:
   *
   * <pre>
   * in the clear: o1:&lt;base64url of the value&gt;
   * encrypted:    o1e:&lt;kid&gt;:&lt;base64url iv&gt;:&lt;base64url ciphertext and tag&gt;
   * </pre>
   *
   * ASCII only, so that every store keeps it as text.
   *
   * @param digest the record's key digest
   * @param value the value
   * @return the text to store
   * @throws TokenStoreException if encryption fails
   */
  public String sealOnce(String digest, byte[] value) {
    Objects.requireNonNull(digest, "digest");
    Objects.requireNonNull(value, "value");
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    EncryptionKeys k = keys;
    if (k == null) {
      return ONCE_CLEAR + b64.encodeToString(value);
    }
    byte[] iv = new byte[IV_BYTES];
    random.nextBytes(iv);
    try {
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(Cipher.ENCRYPT_MODE, k.current(), new GCMParameterSpec(TAG_BITS, iv));
      c.updateAAD(onceAad(digest, k.currentId()));
      byte[] sealed = c.doFinal(value);
      return ONCE_SEALED
          + k.currentId()
          + ':'
          + b64.encodeToString(iv)
          + ':'
          + b64.encodeToString(sealed);
    } catch (GeneralSecurityException e) {
      throw new TokenStoreException(
          null, "cannot encrypt a one-time record: " + e.getClass().getSimpleName(), e);
    }
  }

  /**
   * The value {@link #sealOnce} sealed. Accepts a value in the clear even when this codec encrypts
   * (turning encryption on needs no migration).
   *
   * @param digest the record's key digest, as given to {@link #sealOnce}
   * @param stored the stored text
   * @return the value
   * @throws TokenStoreException if the text is not such a value, is encrypted with a key not in the
   *     ring (or none is configured), or does not decrypt; the message never repeats the value
   */
  public byte[] openOnce(String digest, String stored) {
    Objects.requireNonNull(digest, "digest");
    Objects.requireNonNull(stored, "stored");
    Base64.Decoder b64 = Base64.getUrlDecoder();
    try {
      if (stored.startsWith(ONCE_CLEAR)) {
        return b64.decode(stored.substring(ONCE_CLEAR.length()));
      }
      if (!stored.startsWith(ONCE_SEALED)) {
        throw onceCorrupt("is not a one-time record value");
      }
      String[] parts = stored.substring(ONCE_SEALED.length()).split(":", -1);
      if (parts.length != 3) {
        throw onceCorrupt("has an incomplete encrypted envelope");
      }
      String kid = parts[0];
      EncryptionKeys k = keys;
      SecretKey key = k == null ? null : k.key(kid);
      if (key == null) {
        throw new TokenStoreException(
            null,
            "a one-time record is encrypted with key id '"
                + printable(kid)
                + "', which is not among the configured keys"
                + (k == null ? " (none is configured)" : " " + k.ids()),
            null);
      }
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, b64.decode(parts[1])));
      c.updateAAD(onceAad(digest, kid));
      return c.doFinal(b64.decode(parts[2]));
    } catch (IllegalArgumentException e) {
      throw onceCorrupt("is not valid base64");
    } catch (AEADBadTagException e) {
      throw new TokenStoreException(
          null,
          "a one-time record cannot be decrypted: the key is wrong or the record was altered",
          null);
    } catch (GeneralSecurityException | RuntimeException e) {
      if (e instanceof TokenStoreException) {
        throw (TokenStoreException) e;
      }
      throw onceCorrupt("cannot be decrypted: " + e.getClass().getSimpleName());
    }
  }

  private static byte[] onceAad(String digest, String kid) {
    return ("tokenbroker-once:1:" + ALG + ":" + kid + ":" + digest)
        .getBytes(StandardCharsets.US_ASCII);
  }

  private static TokenStoreException onceCorrupt(String problem) {
    return new TokenStoreException(null, "stored one-time record is corrupt: it " + problem, null);
  }

  @Override
  public String toString() {
    return keys == null ? "TokenCodec{plaintext}" : "TokenCodec{AES-256-GCM, " + keys + '}';
  }
}
