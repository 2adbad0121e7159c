#!/usr/bin/env bash
# Builds .gpu/: everything scripts/gpu-check.sh needs on a GPU machine that has no Maven, no
# network and perhaps no JVM: the application and benchmark classes, their libraries, the
# compiled tests, the JUnit console launcher and a jlink'ed Java runtime (java.base plus the
# few modules the jars use, about 40 MB). JCuda's natives jar is slimmed to the driver library
# (its PTX-compiler library alone is 24 MB). Run here, then carry .gpu to the GPU machine.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
out=.gpu
junit=org/junit/platform/junit-platform-console-standalone/1.14.1/junit-platform-console-standalone-1.14.1.jar
repo="${MAVEN_REPO:-$HOME/.m2/repository}"

mvn -q -B -Pjmh -DskipTests package
mvn -q -B test-compile
[ -f "$repo/$junit" ] || mvn -q -B dependency:get -Dartifact=org.junit.platform:junit-platform-console-standalone:1.14.1

rm -rf "$out.tmp" && mkdir -p "$out.tmp/app/lib"
cp target/mkdt.jar "$out.tmp/app/"
for j in target/lib/*.jar; do
  case "$(basename "$j")" in
    jcuda-natives-*) ;;
    *) cp "$j" "$out.tmp/app/lib/" ;;
  esac
done
# Slim JCuda natives: the driver-API library only.
natives="$(ls target/lib/jcuda-natives-*.jar)"
tmp="$(mktemp -d)"
(cd "$tmp" && unzip -q "$here/$natives" 'lib/libJCudaDriver-*' 'META-INF/*' && zip -q -r "$here/$out.tmp/app/lib/$(basename "$natives")" .)
rm -rf "$tmp"
cp -r target/test-classes "$out.tmp/test-classes"
cp "$repo/$junit" "$out.tmp/junit-console.jar"
jlink --add-modules java.base,java.management,jdk.management,jdk.incubator.vector,jdk.unsupported,java.logging,java.xml,java.sql \
  --strip-debug --strip-native-debug-symbols=objcopy=/usr/bin/objcopy --no-header-files --no-man-pages --compress=2 \
  --output "$out.tmp/runtime" 2>&1 | grep -v 'incubator' || true
rm -rf "$out" && mv "$out.tmp" "$out"
du -sh "$out"
