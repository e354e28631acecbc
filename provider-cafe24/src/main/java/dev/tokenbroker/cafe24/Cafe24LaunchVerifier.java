package dev.tokenbroker.cafe24;

/**
 * Checks the signature of an app launch: whether the query Cafe24 appended to the app URL was
 * signed with the app's client secret. {@link Cafe24AppLaunch} calls it before anything in the
 * query is believed.
 *
 * <p>The default, {@link #hmacSha256()}, follows Cafe24's published sample code (see the module
 * README, "App launch"): Cafe24's developer guide itself could not be consulted for the exact
 * canonical form, so the verification is pluggable — should Cafe24 change or document it
 * differently, supply another implementation instead of waiting for a release.
 *
 * <p>Implementations must be thread-safe, compare in constant time, and never log or throw with the
 * secret or the signature in a message.
 */
@FunctionalInterface
public interface Cafe24LaunchVerifier {

  /**
   * Whether {@code rawQuery} carries a valid signature.
   *
   * @param rawQuery the query string exactly as received: still percent-encoded, in the order
   *     received, including the {@code hmac} parameter, without the leading {@code ?}
   * @param clientSecret the app's client secret, the HMAC key
   * @return true if the signature matches
   */
  boolean verify(String rawQuery, String clientSecret);

  /**
   * The verification Cafe24's sample code performs: every parameter except {@code hmac}, each
   * {@code key=value} pair kept exactly as received (not decoded, not re-encoded), sorted by key,
   * joined with {@code &}; HMAC-SHA256 of those UTF-8 bytes keyed with the client secret, Base64
   * (standard, padded), compared in constant time with the percent-decoded {@code hmac}.
   *
   * @return the default verifier
   */
  static Cafe24LaunchVerifier hmacSha256() {
    return HmacLaunchVerifier.INSTANCE;
  }
}
