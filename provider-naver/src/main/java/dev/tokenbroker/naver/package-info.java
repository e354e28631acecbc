/**
 * Naver Commerce API tokens: client credentials signed with bcrypt. Configure a connection with
 * {@code provider: naver}; {@link dev.tokenbroker.naver.NaverProviderFactory} lists the settings.
 * Everything else in this package is an implementation detail.
 */
@NullMarked
package dev.tokenbroker.naver;

import org.jspecify.annotations.NullMarked;
