package dev.tokenbroker.store;

import dev.tokenbroker.Health;
import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A connection's failure state as every instance sees it, kept in the store beside the token set
 * (not in it: writing it never changes the token set's version). Absent means ACTIVE.
 *
 * @param state DEGRADED or REAUTHORIZATION_REQUIRED (ACTIVE is stored as no record)
 * @param reason a short code: for REAUTHORIZATION_REQUIRED one of {@code not-authorized}, {@code
 *     refresh-token-rejected}, {@code revoked}, {@code unlinked}, {@code uninstalled}, {@code
 *     client-rejected}, {@code ip-not-allowed}, {@code rotation-outcome-unknown}, {@code
 *     store-lost-record}; for DEGRADED {@code transient}, {@code rate-limited}, {@code
 *     rotation-outcome-unknown}, {@code store-unavailable}, {@code lease-busy}
 * @param detail one line for a person; never a token
 * @param errorCode the platform's error ({@code invalid_grant}, {@code KOE322}, {@code 503}), or
 *     null
 * @param since when the connection entered {@code state}
 * @param nextAttemptAt DEGRADED: no renewal before this instant (backoff and Retry-After)
 * @param retryAfter the platform's Retry-After as an absolute instant, if it sent one
 * @param failures renewal failures in a row
 * @param tokenVersion the token set version the failure was observed on: a newer stored set (a new
 *     authorization elsewhere) supersedes a REAUTHORIZATION_REQUIRED record
 * @param version this record's own version in the store (0 before it is stored)
 */
public record HealthRecord(
    Health.State state,
    String reason,
    String detail,
    @Nullable String errorCode,
    Instant since,
    @Nullable Instant nextAttemptAt,
    @Nullable Instant retryAfter,
    int failures,
    long tokenVersion,
    long version) {

  /** The record format this version of Tokenbroker writes for health records. */
  public static final int FORMAT = 2;

  /**
   * Checks the fields.
   *
   * @param detail one line for a person; never a token
   * @param errorCode the platform's error, or null
   * @param failures renewal failures in a row
   * @param nextAttemptAt when the broker will try again, or null
   * @param reason why, one of the reason codes in {@link dev.tokenbroker.Health}
   * @param retryAfter the platform's Retry-After as an instant, or null
   * @param since when the connection entered this state
   * @param state DEGRADED or REAUTHORIZATION_REQUIRED
   * @param tokenVersion the token set version the record belongs to
   * @param version the store version
   */
  public HealthRecord {
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(detail, "detail");
    Objects.requireNonNull(since, "since");
    if (state == Health.State.ACTIVE) {
      throw new IllegalArgumentException("ACTIVE is stored as no health record");
    }
  }

  /**
   * This record as stored with {@code newVersion}.
   *
   * @param newVersion the version to write
   * @return a copy with {@code newVersion}
   */
  public HealthRecord withVersion(long newVersion) {
    return new HealthRecord(
        state,
        reason,
        detail,
        errorCode,
        since,
        nextAttemptAt,
        retryAfter,
        failures,
        tokenVersion,
        newVersion);
  }
}
