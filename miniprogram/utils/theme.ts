/**
 * The theme's colours for the places that take a colour as a value rather than a class (Vant's
 * dialog buttons, icon colours). They name app.wxss's variables, so the theme stays in one place.
 */
export const PRIMARY_COLOR = 'var(--primary-color)';
/** For an action that destroys something (注销账号's confirmation). */
export const DANGER_COLOR = 'var(--danger-color)';
