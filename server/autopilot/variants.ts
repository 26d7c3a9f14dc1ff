// Known-wrong ways to do a step, offered to that step's checks in negative mode: each must be caught.
// They are typed into terminal 1 after the lab's own run, so they see the sandbox a learner would have.
import type { CheckKind } from '../checks/types.ts';

export interface WrongVariant {
  /** Lab id, e.g. "03-multi-stage". */
  lab: string;
  /** Title of the step whose checks judge it. */
  step: string;
  name: string;
  /** Typed as clicked blocks, in order. */
  blocks: string[];
  /** Every check of these kinds in the step must fail. */
  mustFail: CheckKind[];
}

export const WRONG_VARIANTS: readonly WrongVariant[] = [
  {
    lab: '03-multi-stage',
    step: 'Build the image',
    name: 'single-stage build (FROM golang:1.19, no scratch stage) tagged welcome-optimized:v1',
    blocks: [
      // A subshell in a scratch folder: the learner's own Dockerfile and the shell's cwd stay as they were.
      `(mkdir -p /tmp/single-stage && cp main.go /tmp/single-stage/ && cd /tmp/single-stage && cat > Dockerfile <<'EOF'
FROM golang:1.19
WORKDIR /src
COPY main.go .
RUN CGO_ENABLED=0 go build -o welcome main.go
ENTRYPOINT ["./welcome"]
EOF
docker build -t welcome-optimized:v1 .)`,
    ],
    mustFail: ['image.size', 'image.base'],
  },
];
