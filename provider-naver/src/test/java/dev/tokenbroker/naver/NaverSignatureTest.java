package dev.tokenbroker.naver;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class NaverSignatureTest {
  private static final String VECTOR_SECRET = "$2a$10$abcdefghijklmnopqrstuv";

  @Test
  void sign_matchesFirstTestVector() {
    assertThat(NaverSignature.sign("aaaabbbbcccc", 1643956077762L, VECTOR_SECRET))
        .isEqualTo(
            "JDJhJDEwJGFiY2RlZmdoaWprbG1ub3BxcnN0dXVLOTA1cGVVSGZCaUhFaE5aMWJ6WHhCS25VbHhDYjlt");
  }

  @Test
  void sign_matchesSecondTestVector() {
    assertThat(NaverSignature.sign("aaaabbbb", 1643956077762L, VECTOR_SECRET))
        .isEqualTo(
            "JDJhJDEwJGFiY2RlZmdoaWprbG1ub3BxcnN0dXVYaEQyd1VNUGRoME5abnNDckdKTW9YNTlOMjM4aWF5");
  }

  @Test
  void sign_isEightyCharactersThatNeedNoUrlEscaping() {
    String sign = NaverSignature.sign("client", 1L, "$2a$04$./AZaz09abcdefghijklmn");

    assertThat(sign).hasSize(80).matches("[A-Za-z0-9=]+");
  }

  @Test
  void secretProblem_acceptsTheDocumentedShape() {
    assertThat(NaverSignature.secretProblem(VECTOR_SECRET)).isNull();
    assertThat(NaverSignature.secretProblem("$2a$04$./AZaz09abcdefghijklmn")).isNull();
    assertThat(NaverSignature.secretProblem("$2a$12$abcdefghijklmnopqrstuv")).isNull();
  }

  /** Issue 13: cost 30 was accepted, and each signature would then take hours. */
  @ParameterizedTest
  @ValueSource(strings = {"$2a$13$abcdefghijklmnopqrstuv", "$2a$30$abcdefghijklmnopqrstuv"})
  void secretProblem_costAbove12_isRefusedBeforeAnySignatureIsAttempted(String secret) {
    assertThat(NaverSignature.secretProblem(secret))
        .startsWith(
            "has bcrypt cost " + secret.substring(4, 6) + ", outside the supported 04 to 12")
        .doesNotContain(secret.substring(7));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "$2b$10$abcdefghijklmnopqrstuv",
        "$2y$10$abcdefghijklmnopqrstuv",
        "$2x$10$abcdefghijklmnopqrstuv",
        "$2a$10$abcdefghijklmnopqrstu",
        "$2a$10$abcdefghijklmnopqrstuvw",
        "$2a$10$abcdefghijklmnopqrstu!",
        "$2a$10$abcdefghijk mnopqrstuv",
        "$2a$1a$abcdefghijklmnopqrstuv",
        "$2a$10-abcdefghijklmnopqrstuv",
        "$2a$03$abcdefghijklmnopqrstuv",
        "$2a$31$abcdefghijklmnopqrstuv",
        "$2a$",
        "plainpassword",
        "abcdefghijklmnopqrstuvwxyz012"
      })
  void secretProblem_refusesEverythingElse_withoutRepeatingTheSalt(String secret) {
    String problem = NaverSignature.secretProblem(secret);

    assertThat(problem).isNotNull().contains("29-character bcrypt salt");
    if (secret.length() > 7) {
      assertThat(problem).doesNotContain(secret.substring(7)).doesNotContain(secret);
    }
  }

  @Test
  void secretProblem_explainsEachMistake() {
    assertThat(NaverSignature.secretProblem("$2b$10$abcdefghijklmnopqrstuv"))
        .startsWith("uses bcrypt revision '$2b$'");
    assertThat(NaverSignature.secretProblem("$2a$10$abcdefghijklmnopqrstu"))
        .startsWith("has 28 characters instead of 29");
    assertThat(NaverSignature.secretProblem("$2a$10$abcdefghijklmnopqrstu!"))
        .startsWith("has a character outside [./A-Za-z0-9] at position 29");
    assertThat(NaverSignature.secretProblem("$2a$03$abcdefghijklmnopqrstuv"))
        .startsWith("has bcrypt cost 03");
  }
}
