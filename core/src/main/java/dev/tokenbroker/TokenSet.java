package dev.tokenbroker;

import dev.tokenbroker.spi.Secrets;
import dev.tokenbroker.store.TokenStore;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * What a provider handed out for one connection: an access token, its type and expiry, an optional
 * refresh token with its own expiry, the granted scopes, the time it was issued, provider extras
 * (Cafe24's {@code mall_id} and {@code shop_no}, Kakao's user id…) and the version under which a
 * {@link TokenStore} holds it.
 *
 * <p>Immutable and thread-safe. {@link #toString()} never shows a token: only fingerprints. Extras
 * must not carry secrets; as a precaution, extras whose key ends in {@code token} or {@code secret}
 * are fingerprinted in {@code toString} too.
 */
public final class TokenSet {
  private final String accessToken;
  private final String tokenType;
  // The two instants every set has are kept as fields, not Instant objects: 32 bytes less per
  // set, which adds up with 100,000 connections. The getters build an Instant (not hot paths).
  private final long expiresAtSecond;
  private final int expiresAtNano;
  private final @Nullable String refreshToken;
  private final @Nullable Instant refreshExpiresAt;
  private final List<String> scopes;
  private final long issuedAtSecond;
  private final int issuedAtNano;
  private final Map<String, String> extras;
  private final long version;

  private TokenSet(Builder b) {
    this.accessToken = requireToken(b.accessToken, "accessToken");
    this.tokenType = b.tokenType;
    Instant expiresAt = Objects.requireNonNull(b.expiresAt, "expiresAt is required");
    Instant issuedAt = Objects.requireNonNull(b.issuedAt, "issuedAt is required");
    if (!expiresAt.isAfter(issuedAt)) {
      throw new IllegalArgumentException(
          "expiresAt (" + expiresAt + ") must be after issuedAt (" + issuedAt + ")");
    }
    this.expiresAtSecond = expiresAt.getEpochSecond();
    this.expiresAtNano = expiresAt.getNano();
    this.issuedAtSecond = issuedAt.getEpochSecond();
    this.issuedAtNano = issuedAt.getNano();
    this.refreshToken =
        b.refreshToken == null ? null : requireToken(b.refreshToken, "refreshToken");
    this.refreshExpiresAt = b.refreshExpiresAt;
    if (refreshExpiresAt != null && refreshToken == null) {
      throw new IllegalArgumentException("refreshExpiresAt given without a refresh token");
    }
    this.scopes = List.copyOf(b.scopes);
    // Most sets have no extras: share the empty map instead of a TreeMap and its wrapper each.
    this.extras =
        b.extras.isEmpty()
            ? Collections.emptyMap()
            : Collections.unmodifiableMap(new TreeMap<>(b.extras));
    if (b.version < 0) {
      throw new IllegalArgumentException("version must be >= 0, got " + b.version);
    }
    this.version = b.version;
  }

  private static String requireToken(@Nullable String token, String name) {
    Objects.requireNonNull(token, name + " is required");
    if (token.isBlank()) {
      throw new IllegalArgumentException(name + " must not be blank");
    }
    return token;
  }

  /**
   * A builder with token type {@code Bearer}, no refresh token, no scopes, no extras.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A builder holding every value of this set.
   *
   * @return a builder holding every value of this set
   */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /**
   * The access token. Treat as a secret.
   *
   * @return the access token
   */
  public String accessToken() {
    return accessToken;
  }

  /**
   * The token type, {@code Bearer} unless the provider said otherwise.
   *
   * @return the token type, {@code Bearer} unless the provider said otherwise
   */
  public String tokenType() {
    return tokenType;
  }

  /**
   * When the access token stops working.
   *
   * @return when the access token stops working
   */
  public Instant expiresAt() {
    return Instant.ofEpochSecond(expiresAtSecond, expiresAtNano);
  }

  /**
   * The refresh token, or null when the grant has none (Naver client credentials).
   *
   * @return the refresh token, or null when the grant has none (Naver client credentials)
   */
  public @Nullable String refreshToken() {
    return refreshToken;
  }

  /**
   * When the refresh token stops working, or null when unknown or absent.
   *
   * @return when the refresh token stops working, or null when unknown or absent
   */
  public @Nullable Instant refreshExpiresAt() {
    return refreshExpiresAt;
  }

  /**
   * The granted scopes, in the provider's order.
   *
   * @return the granted scopes, in the provider's order
   */
  public List<String> scopes() {
    return scopes;
  }

  /**
   * When the provider issued this set, as anchored to this machine's clock.
   *
   * @return when the provider issued this set, as anchored to this machine's clock
   */
  public Instant issuedAt() {
    return Instant.ofEpochSecond(issuedAtSecond, issuedAtNano);
  }

  /**
   * The access token's lifetime: {@code expiresAt - issuedAt}, always positive.
   *
   * @return the access token's lifetime: {@code expiresAt - issuedAt}, always positive
   */
  public Duration lifetime() {
    return Duration.between(issuedAt(), expiresAt());
  }

  /**
   * Provider extras, sorted by key. Never secrets.
   *
   * @return provider extras, sorted by key
   */
  public Map<String, String> extras() {
    return extras;
  }

  /**
   * One provider extra, or null.
   *
   * @param key the extra's name
   * @return the extra's value, or null
   */
  public @Nullable String extra(String key) {
    return extras.get(key);
  }

  /**
   * The store version: 0 for a set that was never stored, then 1, 2, … on each save.
   *
   * @return the store version: 0 for a set that was never stored, then 1, 2, … on each save
   */
  public long version() {
    return version;
  }

  /**
   * This set with another store version.
   *
   * @param version the store version
   * @return this set with another store version
   */
  public TokenSet withVersion(long version) {
    return version == this.version ? this : toBuilder().version(version).build();
  }

  /**
   * True when both sets carry the same tokens, expiries, scopes and extras, whatever versions.
   *
   * @param other the set to compare with
   * @return true when both carry the same tokens, expiries, scopes and extras
   */
  public boolean sameTokensAs(TokenSet other) {
    return accessToken.equals(other.accessToken)
        && Objects.equals(refreshToken, other.refreshToken)
        && expiresAtSecond == other.expiresAtSecond
        && expiresAtNano == other.expiresAtNano
        && Objects.equals(refreshExpiresAt, other.refreshExpiresAt)
        && scopes.equals(other.scopes)
        && extras.equals(other.extras)
        && tokenType.equals(other.tokenType)
        && issuedAtSecond == other.issuedAtSecond
        && issuedAtNano == other.issuedAtNano;
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof TokenSet)) {
      return false;
    }
    TokenSet t = (TokenSet) o;
    return version == t.version && sameTokensAs(t);
  }

  @Override
  public int hashCode() {
    return Objects.hash(accessToken, refreshToken, expiresAt(), version);
  }

  /** Fingerprints instead of tokens; safe to log. */
  @Override
  public String toString() {
    StringBuilder b = new StringBuilder("TokenSet{type=").append(tokenType);
    b.append(", access=").append(Secrets.fingerprint(accessToken));
    b.append(", expiresAt=").append(expiresAt());
    if (refreshToken != null) {
      b.append(", refresh=").append(Secrets.fingerprint(refreshToken));
      b.append(", refreshExpiresAt=").append(refreshExpiresAt);
    }
    if (!scopes.isEmpty()) {
      b.append(", scopes=").append(scopes);
    }
    b.append(", issuedAt=").append(issuedAt());
    if (!extras.isEmpty()) {
      b.append(", extras={");
      String sep = "";
      for (Map.Entry<String, String> e : extras.entrySet()) {
        String key = e.getKey().toLowerCase(java.util.Locale.ROOT);
        boolean secretish = key.endsWith("token") || key.endsWith("secret");
        b.append(sep)
            .append(e.getKey())
            .append('=')
            .append(secretish ? Secrets.fingerprint(e.getValue()) : e.getValue());
        sep = ", ";
      }
      b.append('}');
    }
    return b.append(", version=").append(version).append('}').toString();
  }

  /** Builds a {@link TokenSet}. Not thread-safe. Later calls overwrite earlier ones. */
  public static final class Builder {
    private @Nullable String accessToken;
    private String tokenType = "Bearer";
    private @Nullable Instant expiresAt;
    private @Nullable String refreshToken;
    private @Nullable Instant refreshExpiresAt;
    private List<String> scopes = List.of();
    private @Nullable Instant issuedAt;
    private final Map<String, String> extras = new TreeMap<>();
    private long version;

    private Builder() {}

    private Builder(TokenSet t) {
      accessToken = t.accessToken;
      tokenType = t.tokenType;
      expiresAt = t.expiresAt();
      refreshToken = t.refreshToken;
      refreshExpiresAt = t.refreshExpiresAt;
      scopes = t.scopes;
      issuedAt = t.issuedAt();
      extras.putAll(t.extras);
      version = t.version;
    }

    /**
     * @param accessToken the access token; required
     * @return this builder
     */
    public Builder accessToken(String accessToken) {
      this.accessToken = Objects.requireNonNull(accessToken, "accessToken");
      return this;
    }

    /**
     * {@code bearer} in any case is normalized to {@code Bearer}.
     *
     * @param tokenType the token type, usually {@code Bearer}
     * @return this builder
     */
    public Builder tokenType(String tokenType) {
      Objects.requireNonNull(tokenType, "tokenType");
      this.tokenType = tokenType.equalsIgnoreCase("bearer") ? "Bearer" : tokenType;
      return this;
    }

    /**
     * @param expiresAt when the access token expires; required
     * @return this builder
     */
    public Builder expiresAt(Instant expiresAt) {
      this.expiresAt = Objects.requireNonNull(expiresAt, "expiresAt");
      return this;
    }

    /**
     * @param refreshToken the refresh token, or null (client credentials)
     * @return this builder
     */
    public Builder refreshToken(@Nullable String refreshToken) {
      this.refreshToken = refreshToken;
      return this;
    }

    /**
     * @param refreshExpiresAt when the refresh token expires, or null when unknown or none
     * @return this builder
     */
    public Builder refreshExpiresAt(@Nullable Instant refreshExpiresAt) {
      this.refreshExpiresAt = refreshExpiresAt;
      return this;
    }

    /**
     * @param scopes the granted scopes
     * @return this builder
     */
    public Builder scopes(Collection<String> scopes) {
      this.scopes = List.copyOf(scopes);
      return this;
    }

    /**
     * @param issuedAt when the platform issued the set; required
     * @return this builder
     */
    public Builder issuedAt(Instant issuedAt) {
      this.issuedAt = Objects.requireNonNull(issuedAt, "issuedAt");
      return this;
    }

    /**
     * Adds (or, with a null value, removes) one provider extra.
     *
     * @param key the extra's name
     * @param value its value, or null to remove it
     * @return the extra's value, or null
     */
    public Builder extra(String key, @Nullable String value) {
      Objects.requireNonNull(key, "key");
      if (value == null) {
        extras.remove(key);
      } else {
        extras.put(key, value);
      }
      return this;
    }

    /**
     * @param extras provider extras (mall id, shop number, user id, app id); never a secret
     * @return this builder
     */
    public Builder extras(Map<String, String> extras) {
      this.extras.putAll(extras);
      return this;
    }

    /**
     * @param version the store version (0 for a set never saved)
     * @return this builder
     */
    public Builder version(long version) {
      this.version = version;
      return this;
    }

    /**
     * @return the token set
     * @throws NullPointerException if the access token, {@code expiresAt} or {@code issuedAt} is
     *     missing
     * @throws IllegalArgumentException if {@code expiresAt} is not after {@code issuedAt}, a token
     *     is blank, or a refresh expiry is given without a refresh token
     */
    public TokenSet build() {
      return new TokenSet(this);
    }
  }
}
