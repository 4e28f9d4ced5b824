/* Directions without a map: the bearing to a shelter, in degrees and in words, and the phone's
 * compass heading from DeviceOrientation. Pure functions, no page state.
 */
"use strict";

const Geo = (() => {
  const rad = Math.PI / 180;

  /* Initial great-circle bearing from (lat1, lon1) to (lat2, lon2), 0–360°, 0 = north. */
  function bearing(lat1, lon1, lat2, lon2) {
    const p1 = lat1 * rad, p2 = lat2 * rad, dl = (lon2 - lon1) * rad;
    const y = Math.sin(dl) * Math.cos(p2);
    const x = Math.cos(p1) * Math.sin(p2) - Math.sin(p1) * Math.cos(p2) * Math.cos(dl);
    return (Math.atan2(y, x) / rad + 360) % 360;
  }

  /* One of eight compass points, as an index 0 = N, 1 = NE, … 7 = NW. */
  function point8(deg) {
    return Math.round(((deg % 360) + 360) % 360 / 45) % 8;
  }

  /* The compass heading the phone's top points to, or null when the event cannot tell.
   * iOS gives webkitCompassHeading (clockwise from north); others give an absolute alpha
   * (counter-clockwise), on `deviceorientationabsolute` or with `absolute` set. */
  function headingOf(event) {
    if (typeof event.webkitCompassHeading === "number") return event.webkitCompassHeading;
    if ((event.absolute || event.type === "deviceorientationabsolute")
        && typeof event.alpha === "number") {
      return (360 - event.alpha) % 360;
    }
    return null;
  }

  /* How far to turn the arrow: the bearing as seen from where the phone points. */
  function arrowAngle(bearingDeg, headingDeg) {
    const a = headingDeg == null ? bearingDeg : bearingDeg - headingDeg;
    return Math.round(((a % 360) + 360) % 360);
  }

  return {bearing, point8, headingOf, arrowAngle};
})();
