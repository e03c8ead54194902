// Path tracer job: renders a small fixed scene (diffuse spheres on a floor under a sky and one
// emissive sphere) and writes the frame to stdout as a PNG.
// Input (stdin, 16 bytes, little-endian u32): width, height, samples per pixel, seed.
// Deterministic: its only randomness is a xorshift generator seeded from the input and the pixel,
// and it uses only IEEE-exact float operations (+, -, *, /, sqrt), no transcendental functions.
import { encodePng } from "./png";
import { fail, readStdin, u32At, writeStdout } from "./wasi";

const MAX_SIDE: u32 = 1024;
const MAX_SAMPLES: u32 = 1024;
const MAX_BOUNCES: i32 = 5;

let rngState: u32 = 1;

function random(): f64 {
  // xorshift32; never zero once seeded non-zero
  let x = rngState;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  rngState = x;
  return <f64>x / 4294967296.0;
}

/** The generator's start state for a pixel: a bijective mix of the seed (distinct seeds, distinct
 * streams) and the pixel index (murmur3's finalizer); never zero, which xorshift cannot leave. */
function pixelSeed(seed: u32, pixel: u32): u32 {
  let h = seed ^ (pixel * 0x9e3779b1);
  h ^= h >>> 16;
  h *= 0x85ebca6b;
  h ^= h >>> 13;
  h *= 0xc2b2ae35;
  h ^= h >>> 16;
  return h == 0 ? 0x6d2b79f5 : h;
}

class Vec {
  constructor(
    public x: f64,
    public y: f64,
    public z: f64,
  ) {}
  add(o: Vec): Vec {
    return new Vec(this.x + o.x, this.y + o.y, this.z + o.z);
  }
  sub(o: Vec): Vec {
    return new Vec(this.x - o.x, this.y - o.y, this.z - o.z);
  }
  mul(o: Vec): Vec {
    return new Vec(this.x * o.x, this.y * o.y, this.z * o.z);
  }
  scale(s: f64): Vec {
    return new Vec(this.x * s, this.y * s, this.z * s);
  }
  dot(o: Vec): f64 {
    return this.x * o.x + this.y * o.y + this.z * o.z;
  }
  unit(): Vec {
    return this.scale(1.0 / Math.sqrt(this.dot(this)));
  }
}

class Sphere {
  constructor(
    public center: Vec,
    public radius: f64,
    public albedo: Vec,
    public emission: Vec,
  ) {}
  /** Distance along the ray to the nearest hit beyond a small epsilon, or -1. */
  hit(origin: Vec, dir: Vec): f64 {
    const oc = origin.sub(this.center);
    const b = oc.dot(dir);
    const c = oc.dot(oc) - this.radius * this.radius;
    const disc = b * b - c;
    if (disc < 0) return -1;
    const root = Math.sqrt(disc);
    let t = -b - root;
    if (t > 1e-4) return t;
    t = -b + root;
    return t > 1e-4 ? t : -1;
  }
}

const SCENE: Sphere[] = [
  new Sphere(new Vec(0, -1000.5, -1), 1000, new Vec(0.75, 0.75, 0.7), new Vec(0, 0, 0)), // floor
  new Sphere(new Vec(0, 0, -1.2), 0.5, new Vec(0.8, 0.3, 0.25), new Vec(0, 0, 0)),
  new Sphere(new Vec(-1.05, -0.15, -1.5), 0.35, new Vec(0.25, 0.5, 0.85), new Vec(0, 0, 0)),
  new Sphere(new Vec(0.95, -0.25, -0.9), 0.25, new Vec(0.3, 0.8, 0.35), new Vec(0, 0, 0)),
  new Sphere(new Vec(0.4, 1.4, -0.6), 0.45, new Vec(0, 0, 0), new Vec(6, 5.5, 4.5)), // lamp
];

/** A uniformly random point inside the unit sphere (rejection sampling: no trigonometry). */
function randomInUnitSphere(): Vec {
  while (true) {
    const p = new Vec(2 * random() - 1, 2 * random() - 1, 2 * random() - 1);
    if (p.dot(p) < 1) return p;
  }
}

function sky(dir: Vec): Vec {
  const t = 0.5 * (dir.y + 1);
  return new Vec(1 - 0.5 * t, 1 - 0.3 * t, 1).scale(0.35);
}

function trace(origin: Vec, dir: Vec): Vec {
  let throughput = new Vec(1, 1, 1);
  let radiance = new Vec(0, 0, 0);
  for (let bounce = 0; bounce < MAX_BOUNCES; bounce++) {
    let nearest: f64 = Infinity;
    let hitIndex = -1;
    for (let i = 0; i < SCENE.length; i++) {
      const t = SCENE[i].hit(origin, dir);
      if (t > 0 && t < nearest) {
        nearest = t;
        hitIndex = i;
      }
    }
    if (hitIndex < 0) return radiance.add(throughput.mul(sky(dir)));
    const sphere = SCENE[hitIndex];
    radiance = radiance.add(throughput.mul(sphere.emission));
    throughput = throughput.mul(sphere.albedo);
    const point = origin.add(dir.scale(nearest));
    const normal = point.sub(sphere.center).scale(1.0 / sphere.radius);
    // Lambertian scattering: the normal plus a random point in the unit sphere.
    let next = normal.add(randomInUnitSphere());
    if (next.dot(next) < 1e-12) next = normal;
    origin = point;
    dir = next.unit();
  }
  return radiance;
}

/** Linear radiance to an 8-bit sRGB-ish value (gamma 2 by a square root), clamped. */
function toByte(v: f64): u8 {
  const g = Math.sqrt(v < 0 ? 0 : v);
  const scaled = g >= 1 ? 255.0 : g * 256.0;
  return <u8>(<i32>scaled);
}

function main(): void {
  const input = readStdin();
  if (input.length != 16) {
    fail(2, "input must be 16 bytes: width, height, samples, seed (u32 little-endian)");
    return;
  }
  const width = u32At(input, 0);
  const height = u32At(input, 4);
  const samples = u32At(input, 8);
  const seed = u32At(input, 12);
  if (width < 1 || width > MAX_SIDE || height < 1 || height > MAX_SIDE) {
    fail(2, "width and height must be in [1, " + MAX_SIDE.toString() + "]");
    return;
  }
  if (samples < 1 || samples > MAX_SAMPLES) {
    fail(2, "samples must be in [1, " + MAX_SAMPLES.toString() + "]");
    return;
  }
  const w = <i32>width;
  const h = <i32>height;
  const rgb = new Uint8Array(w * h * 3);
  const eye = new Vec(0, 0.1, 1);
  const aspect = <f64>w / <f64>h;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      // Per-pixel stream: the image does not depend on the order pixels are rendered in.
      rngState = pixelSeed(seed, <u32>(y * w + x));
      let sum = new Vec(0, 0, 0);
      for (let s: u32 = 0; s < samples; s++) {
        const u = ((<f64>x + random()) / <f64>w) * 2 - 1;
        const v = 1 - ((<f64>y + random()) / <f64>h) * 2;
        const dir = new Vec(u * aspect * 0.9, v * 0.9, -1.6).unit();
        sum = sum.add(trace(eye, dir));
      }
      const c = sum.scale(1.0 / <f64>samples);
      const at = (y * w + x) * 3;
      rgb[at] = toByte(c.x);
      rgb[at + 1] = toByte(c.y);
      rgb[at + 2] = toByte(c.z);
    }
  }
  writeStdout(encodePng(w, h, rgb));
}

main();
