package dev.tokenbroker.kakao;

import dev.tokenbroker.TokenBrokerException;
import java.util.Objects;

/**
 * An unlink callback ({@link KakaoUnlinkCallback#verify}) that must not be believed: answer it with
 * 401 ({@link Reason#NOT_FROM_KAKAO}) or 400 and remove nothing. The message never contains the
 * admin key or any value from the request.
 */
public final class KakaoUnlinkException extends TokenBrokerException {
  private static final long serialVersionUID = 1L;

  /** Why the callback was refused. */
  public enum Reason {
    /** No {@code Authorization: KakaoAK …} header, or not the app's admin key. */
    NOT_FROM_KAKAO,
    /** {@code app_id} names another app than the configured one. */
    WRONG_APP,
    /** {@code app_id} or {@code user_id} is absent. */
    MISSING_FIELD,
    /** A parameter is unusable: not a number, or given twice. */
    MALFORMED
  }

  private final Reason reason;

  KakaoUnlinkException(Reason reason, String message) {
    super(null, "Kakao unlink callback refused: " + message);
    this.reason = Objects.requireNonNull(reason);
  }

  /**
   * Why the callback was refused.
   *
   * @return the reason
   */
  public Reason reason() {
    return reason;
  }
}
