package dev.tokenbroker.examples.skeleton;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * docs/providers.md stays true: its YAML and Java are the tested files verbatim, and the line
 * counts it gives are recounted here.
 */
class ProvidersGuideTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  private static String guide() throws IOException {
    return Files.readString(ROOT.resolve("docs/providers.md"), StandardCharsets.UTF_8);
  }

  private static String read(String path) throws IOException {
    return Files.readString(ROOT.resolve(path), StandardCharsets.UTF_8);
  }

  /** Lines neither blank nor comments: {@code #} in YAML; {@code //}, block and Javadoc in Java. */
  static int codeLines(String path, String text) {
    int n = 0;
    boolean inComment = false;
    for (String line : text.split("\n", -1)) {
      String t = line.trim();
      if (inComment) {
        inComment = !t.contains("*/");
        continue;
      }
      if (t.isEmpty() || (path.endsWith(".yaml") && t.startsWith("#")) || t.startsWith("//")) {
        continue;
      }
      if (path.endsWith(".java") && t.startsWith("/*")) {
        inComment = !t.contains("*/");
        continue;
      }
      n++;
    }
    return n;
  }

  @Test
  void everyFileShown_isTheFileVerbatim() throws IOException {
    Matcher m =
        Pattern.compile("<!-- file:(\\S+) -->\\n```[a-z]*\\n(.*?)```", Pattern.DOTALL)
            .matcher(guide());
    int checked = 0;
    while (m.find()) {
      assertThat(m.group(2)).as("%s in docs/providers.md", m.group(1)).isEqualTo(read(m.group(1)));
      checked++;
    }
    assertThat(checked).as("files shown").isEqualTo(4);
  }

  @Test
  void everyLineCount_isRecounted() throws IOException {
    Matcher m = Pattern.compile("<!-- lines:(\\S+) -->(\\d+)").matcher(guide());
    int checked = 0;
    while (m.find()) {
      assertThat(Integer.parseInt(m.group(2)))
          .as("the line count of %s in docs/providers.md", m.group(1))
          .isEqualTo(codeLines(m.group(1), read(m.group(1))));
      checked++;
    }
    assertThat(checked).as("counts given").isEqualTo(8);
  }

  @Test
  void theSandboxYaml_isTheProductionYamlOnTheSandboxHosts() throws IOException {
    String production = read("provider-oauth2/src/test/resources/ebay/ebay-production.yaml");
    String sandbox = read("provider-oauth2/src/test/resources/ebay/ebay-sandbox.yaml");
    assertThat(sandbox)
        .isEqualTo(
            production
                .replace("https://auth.ebay.com/", "https://auth.sandbox.ebay.com/")
                .replace(
                    "https://api.ebay.com/identity/", "https://api.sandbox.ebay.com/identity/"));
    assertThat(List.of(sandbox.split("\n")))
        .filteredOn(l -> l.contains("sandbox.ebay.com"))
        .hasSize(3);
  }
}
