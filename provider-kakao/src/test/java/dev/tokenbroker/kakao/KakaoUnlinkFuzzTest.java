package dev.tokenbroker.kakao;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * Fuzzes unlink callbacks: arbitrary parameters with the right key, and arbitrary headers. Each
 * gives an unlink or a {@link KakaoUnlinkException} — never another exception — and the admin key
 * never appears in what a refusal says.
 */
class KakaoUnlinkFuzzTest {
  private static final String ADMIN_KEY = "fuzzAdminKey-0123456789abcdef";
  private final KakaoUnlinkCallback callback = KakaoUnlinkCallback.of(ADMIN_KEY, 42L);

  @Property(tries = 300)
  void arbitraryParameters_withTheRightKey_giveAnUnlinkOrATypedError(@ForAll String encoded) {
    try {
      KakaoUnlinkCallback.Unlink unlink =
          callback.verifyEncoded("KakaoAK " + ADMIN_KEY, "app_id=42&" + encoded);
      assertThat(Long.parseLong(unlink.userId())).isPositive();
    } catch (KakaoUnlinkException e) {
      assertThat(e.getMessage()).doesNotContain(ADMIN_KEY);
    }
  }

  @Property(tries = 300)
  void arbitraryAuthorization_isNeverAccepted(@ForAll String authorization) {
    try {
      callback.verifyEncoded(authorization, "app_id=42&user_id=7");
      throw new AssertionError("accepted a header without the admin key");
    } catch (KakaoUnlinkException e) {
      assertThat(e.reason()).isEqualTo(KakaoUnlinkException.Reason.NOT_FROM_KAKAO);
    }
  }
}
