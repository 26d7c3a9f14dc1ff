import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findStage, historyStep, instructionStep, parseDockerfile, stageChain, stepMatches } from './dockerfile.ts';
import { humanSize, sizeBound } from './format.ts';

describe('parseDockerfile', () => {
  it('finds stages, names (case-insensitive), bases with global ARGs, and joins continuation lines', () => {
    const df = parseDockerfile(`# syntax=docker/dockerfile:1
ARG GO_VERSION=1.19
FROM --platform=$BUILDPLATFORM golang:\${GO_VERSION} AS Builder
WORKDIR /src
# a comment
RUN apt-get update && \\
    # comment inside
    apt-get install -y git
COPY ["app.go", "./"]

FROM builder AS test
RUN go test ./...

FROM scratch
COPY --from=builder /src/app /app
`);
    assert.deepEqual(df.stages.map((s) => [s.index, s.name, s.from]), [[0, 'builder', 'golang:1.19'], [1, 'test', 'builder'], [2, undefined, 'scratch']]);
    const b = findStage(df, 'BUILDER')!;
    assert.deepEqual(b.instructions.map((i) => i.keyword), ['WORKDIR', 'RUN', 'COPY']);
    assert.equal(b.instructions[1]!.line, 6);
    assert.deepEqual(instructionStep(b.instructions[1]!), { keyword: 'RUN', text: 'apt-get update && apt-get install -y git' });
    assert.deepEqual(instructionStep(b.instructions[2]!), { keyword: 'COPY', text: './' });
    assert.equal(findStage(df, '2')!.from, 'scratch');
    const { chain, root } = stageChain(df, findStage(df, 'test')!);
    assert.deepEqual(chain.map((s) => s.name), ['builder', 'test']);
    assert.equal(root, 'golang:1.19');
  });
  it('a file without FROM is a problem', () => {
    assert.deepEqual(parseDockerfile('RUN echo hi\n').problems, ['it has no FROM instruction']);
  });
});

describe('history lines', () => {
  it('classic builder, BuildKit and docker import', () => {
    assert.deepEqual(historyStep('/bin/sh -c #(nop) COPY file:d7f2fb76 in . '), { keyword: 'COPY', text: '.' });
    assert.deepEqual(historyStep('/bin/sh -c #(nop)  CMD ["./app"]'), { keyword: 'CMD' });
    assert.deepEqual(historyStep('/bin/sh -c #(nop) WORKDIR /go'), { keyword: 'WORKDIR' });
    assert.deepEqual(historyStep('/bin/sh -c go build -o app app.go'), { keyword: 'RUN', text: 'go build -o app app.go' });
    assert.deepEqual(historyStep('|1 VERSION=1.0 /bin/sh -c go build'), { keyword: 'RUN', text: 'go build' });
    assert.deepEqual(historyStep('/bin/busybox --install -s /bin'), { keyword: 'RUN', text: '/bin/busybox --install -s /bin' });
    assert.deepEqual(historyStep('RUN /bin/sh -c go build -o app . # buildkit'), { keyword: 'RUN', text: 'go build -o app .' });
    assert.deepEqual(historyStep('COPY --from=build /out/app /app # buildkit'), { keyword: 'COPY', text: '/app' });
    assert.deepEqual(historyStep('CMD ["/app"]'), { keyword: 'CMD' });
    assert.deepEqual(historyStep(''), { keyword: 'IMPORT' });
  });
  it('matching a Dockerfile step', () => {
    assert.ok(stepMatches({ keyword: 'RUN', text: 'CGO_ENABLED=0 go build -o app .' }, { keyword: 'RUN', text: 'CGO_ENABLED=0 go build -o app .' }));
    assert.ok(!stepMatches({ keyword: 'RUN', text: 'go test ./...' }, { keyword: 'RUN', text: 'go build' }));
    assert.ok(stepMatches({ keyword: 'COPY', text: '/app/' }, { keyword: 'COPY', text: '/app' }));
    assert.ok(!stepMatches({ keyword: 'ADD', text: '/app' }, { keyword: 'COPY', text: '/app' }));
    assert.ok(stepMatches({ keyword: 'COPY', text: '/go/src/x' }, { keyword: 'COPY' }));
  });
});

describe('sizes as Docker shows them', () => {
  it('decimal units, three significant digits', () => {
    assert.equal(humanSize(866_700_000), '867 MB');
    assert.equal(humanSize(1_812_000), '1.81 MB');
    assert.equal(humanSize(20_000_000), '20 MB');
    assert.equal(humanSize(10_300_000), '10.3 MB');
    assert.equal(humanSize(0), '0 B');
    assert.equal(humanSize(1_710), '1.71 kB');
    assert.equal(humanSize(1_200_000_000), '1.2 GB');
    assert.equal(sizeBound('max', 20_000_000), 'at most 20 MB');
    assert.equal(sizeBound('max', 19_999_999), 'under 20 MB');
    assert.equal(sizeBound('min', 500_000_001), 'over 500 MB');
    assert.equal(sizeBound('min', 123_456_789), 'at least 123 MB');
  });
});
