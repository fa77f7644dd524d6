// Draws the arena's scene (arena.js `scene`) on a canvas. Only draws: it reads what it is
// handed and changes nothing else. The camera follows the own player; one world unit is
// `scale` pixels.

const THEME = {
  void: "#07090e",
  floor: "#0e1320",
  gridMinor: "rgba(120, 150, 200, 0.06)",
  gridMajor: "rgba(120, 150, 200, 0.13)",
  wall: "#4f7cff",
  text: "#e8ecf4",
  textDim: "rgba(232, 236, 244, 0.6)",
  selfRing: "#ffffff",
  debugServer: "#ff5d73",
  debugView: "rgba(255, 209, 102, 0.55)",
};
const GRID_MINOR_UNITS = 5;
const GRID_MAJOR_UNITS = 25;
const NAME_FONT_PX = 13;
const MINIMAP_PX = 132;
const MINIMAP_MARGIN_PX = 16;
const OVERLAY_FONT_PX = 12;
const OVERLAY_WIDTH_PX = 430;
const OVERLAY_TOP_PX = 16;
/** Entities are dropped past 1.25 × view_radius (docs/protocol.md, "Visibility"); drawn
 *  in debug. */
const VIEW_HYSTERESIS = 1.25;

export class Renderer {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.debug = false;
    this.resize();
    window.addEventListener("resize", () => this.resize());
  }

  // The backing store has one pixel per device pixel, so lines stay sharp on HiDPI screens.
  resize() {
    this.dpr = window.devicePixelRatio || 1;
    this.cssWidth = window.innerWidth;
    this.cssHeight = window.innerHeight;
    this.canvas.width = Math.round(this.cssWidth * this.dpr);
    this.canvas.height = Math.round(this.cssHeight * this.dpr);
  }

  /**
   * @param {object|null} view scene(client, now), or null before the first snapshot
   * @param {object|null} welcome the Welcome's game value (arena size, view radius)
   * @param {string[]|null} [overlay] lines of figures drawn in debug
   */
  draw(view, welcome, overlay = null) {
    const { ctx } = this;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = THEME.void;
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    if (!view) return;

    // The window's longer side spans the view square, so nothing pops into sight
    // mid-screen on a wide window; the shorter side shows a little less.
    const scale = (Math.max(this.cssWidth, this.cssHeight) / (2 * welcome.view_radius)) * this.dpr;
    const camera = { x: view.self.x, y: view.self.y };
    ctx.setTransform(scale, 0, 0, scale,
      this.canvas.width / 2 - camera.x * scale, this.canvas.height / 2 - camera.y * scale);
    this.drawArena(welcome, camera, scale);
    for (const e of view.entities) if (e.kind === "Orb") this.drawOrb(e);
    for (const e of view.entities) if (e.kind === "Player") this.drawPlayer(e, scale, false);
    this.drawPlayer(view.self, scale, true);
    if (this.debug) this.drawDebug(view, welcome, scale);

    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    this.drawMinimap(view, welcome);
    if (this.debug && overlay) this.drawOverlay(overlay);
  }

  // Figures in screen pixels, top centre, clear of the HUD and the scoreboard.
  drawOverlay(lines) {
    const { ctx } = this;
    const lineHeight = OVERLAY_FONT_PX + 4;
    const width = OVERLAY_WIDTH_PX;
    const left = (this.cssWidth - width) / 2;
    ctx.fillStyle = "rgba(14, 19, 32, 0.85)";
    ctx.fillRect(left, OVERLAY_TOP_PX, width, lines.length * lineHeight + 8);
    ctx.font = `${OVERLAY_FONT_PX}px ui-monospace, monospace`;
    ctx.textAlign = "left";
    ctx.textBaseline = "top";
    ctx.fillStyle = THEME.text;
    lines.forEach((line, i) => ctx.fillText(line, left + 8, OVERLAY_TOP_PX + 4 + i * lineHeight));
  }

  drawArena(welcome, camera, scale) {
    const { ctx } = this;
    const w = welcome.world_width;
    const h = welcome.world_height;
    ctx.fillStyle = THEME.floor;
    ctx.fillRect(0, 0, w, h);

    // Only the grid lines on screen, clipped to the arena.
    const halfW = this.canvas.width / scale / 2;
    const halfH = this.canvas.height / scale / 2;
    const x0 = Math.max(0, camera.x - halfW), x1 = Math.min(w, camera.x + halfW);
    const y0 = Math.max(0, camera.y - halfH), y1 = Math.min(h, camera.y + halfH);
    ctx.lineWidth = 1 / scale * this.dpr;
    for (const [every, style] of [[GRID_MINOR_UNITS, THEME.gridMinor], [GRID_MAJOR_UNITS, THEME.gridMajor]]) {
      ctx.strokeStyle = style;
      ctx.beginPath();
      for (let x = Math.ceil(x0 / every) * every; x <= x1; x += every) {
        ctx.moveTo(x, y0);
        ctx.lineTo(x, y1);
      }
      for (let y = Math.ceil(y0 / every) * every; y <= y1; y += every) {
        ctx.moveTo(x0, y);
        ctx.lineTo(x1, y);
      }
      ctx.stroke();
    }

    ctx.save();
    ctx.strokeStyle = THEME.wall;
    ctx.shadowColor = THEME.wall;
    ctx.shadowBlur = 12 * this.dpr;
    ctx.lineWidth = 0.25;
    ctx.strokeRect(-0.125, -0.125, w + 0.25, h + 0.25);
    ctx.restore();
  }

  drawOrb(orb) {
    const { ctx } = this;
    const color = rgb(orb.color);
    ctx.globalAlpha = 0.22;
    circle(ctx, orb.x, orb.y, orb.radius * 1.9, color);
    ctx.globalAlpha = 1;
    circle(ctx, orb.x, orb.y, orb.radius, color);
  }

  drawPlayer(player, scale, isSelf) {
    const { ctx } = this;
    const r = player.radius;
    circle(ctx, player.x, player.y, r, rgb(player.color));
    ctx.lineWidth = r * 0.14;
    ctx.strokeStyle = rgb(player.color.map((c) => c * 0.55));
    ctx.stroke();
    if (isSelf) {
      ctx.beginPath();
      ctx.arc(player.x, player.y, r + 0.22, 0, Math.PI * 2);
      ctx.lineWidth = 0.08;
      ctx.strokeStyle = THEME.selfRing;
      ctx.stroke();
    }

    // Text is sized in screen pixels, not world units, so it reads the same at any zoom.
    const px = 1 / scale * this.dpr;
    ctx.textAlign = "center";
    ctx.font = `600 ${NAME_FONT_PX * px}px system-ui, sans-serif`;
    ctx.textBaseline = "bottom";
    ctx.fillStyle = isSelf ? THEME.text : THEME.textDim;
    ctx.fillText(player.name, player.x, player.y - r - 6 * px);
    ctx.font = `700 ${Math.min(NAME_FONT_PX * px, r * 0.9)}px system-ui, sans-serif`;
    ctx.textBaseline = "middle";
    ctx.fillStyle = "rgba(0, 0, 0, 0.7)";
    ctx.fillText(String(player.score), player.x, player.y + r * 0.05);
  }

  // Raw server positions (dashed, red) beside what is drawn, and the interest squares.
  drawDebug(view, welcome, scale) {
    const { ctx } = this;
    ctx.save();
    ctx.lineWidth = 2 / scale * this.dpr;
    ctx.setLineDash([4 / scale * this.dpr, 4 / scale * this.dpr]);
    ctx.strokeStyle = THEME.debugServer;
    for (const e of [view.self, ...view.entities]) {
      if (e.serverX === null) continue;
      ctx.beginPath();
      ctx.arc(e.serverX, e.serverY, e.radius, 0, Math.PI * 2);
      ctx.moveTo(e.serverX, e.serverY);
      ctx.lineTo(e.x, e.y);
      ctx.stroke();
    }
    ctx.strokeStyle = THEME.debugView;
    const r = welcome.view_radius;
    const { serverX: cx, serverY: cy } = view.self;
    ctx.strokeRect(cx - r, cy - r, 2 * r, 2 * r);
    ctx.setLineDash([]);
    const far = r * VIEW_HYSTERESIS;
    ctx.strokeRect(cx - far, cy - far, 2 * far, 2 * far);
    ctx.restore();
  }

  drawMinimap(view, welcome) {
    const { ctx } = this;
    const k = MINIMAP_PX / Math.max(welcome.world_width, welcome.world_height);
    const w = welcome.world_width * k;
    const h = welcome.world_height * k;
    const left = this.cssWidth - w - MINIMAP_MARGIN_PX;
    const top = this.cssHeight - h - MINIMAP_MARGIN_PX;
    ctx.fillStyle = "rgba(14, 19, 32, 0.85)";
    ctx.fillRect(left, top, w, h);
    ctx.strokeStyle = "rgba(79, 124, 255, 0.6)";
    ctx.lineWidth = 1;
    ctx.strokeRect(left + 0.5, top + 0.5, w - 1, h - 1);
    const r = welcome.view_radius * k;
    const sx = left + view.self.x * k;
    const sy = top + view.self.y * k;
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, w, h);
    ctx.clip();
    ctx.strokeStyle = "rgba(232, 236, 244, 0.25)";
    ctx.strokeRect(sx - r, sy - r, 2 * r, 2 * r);
    for (const e of view.entities) {
      if (e.kind === "Player") circle(ctx, left + e.x * k, top + e.y * k, 2.5, rgb(e.color));
    }
    circle(ctx, sx, sy, 3, THEME.selfRing);
    ctx.restore();
  }
}

function circle(ctx, x, y, r, fill) {
  ctx.beginPath();
  ctx.arc(x, y, r, 0, Math.PI * 2);
  ctx.fillStyle = fill;
  ctx.fill();
}

function rgb([r, g, b]) {
  return `rgb(${r | 0}, ${g | 0}, ${b | 0})`;
}
