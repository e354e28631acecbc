/**
 * An emulator of the Naver Commerce API's token endpoint: bcrypt signatures verified, the 5-minute
 * timestamp window and the 30-minute same-token rule enforced, gateway errors in their documented
 * shapes.
 */
@NullMarked
package dev.tokenbroker.testkit.naver;

import org.jspecify.annotations.NullMarked;
